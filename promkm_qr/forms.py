"""The base of every form: WTForms' own messages (required, invalid...) in the page's language.

WTForms and Flask-WTF ship no Indonesian, so Flask-WTF's i18n would leave them English on
Indonesian pages. Their Indonesian lives in our catalogue's `wtforms` domain
(translations/id/LC_MESSAGES/wtforms.po); English pages keep the libraries' own text.
"""

from pathlib import Path

from flask_babel import Domain
from flask_wtf import FlaskForm

WTFORMS_DOMAIN = Domain(
    translation_directories=[str(Path(__file__).parent / "translations")], domain="wtforms"
)


class _Translations:
    """The gettext pair WTForms asks for, answered in the request's locale."""

    def gettext(self, string: str) -> str:
        return WTFORMS_DOMAIN.get_translations().ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return WTFORMS_DOMAIN.get_translations().ungettext(singular, plural, n)


class Form(FlaskForm):
    """FlaskForm whose built-in messages follow the page's language."""

    class Meta:
        def get_translations(self, form):
            return _Translations()
