"""The base of every form: WTForms' own messages in the page's language, and every field a
person types text into refusing hidden characters.

WTForms and Flask-WTF ship no Indonesian, so Flask-WTF's i18n would leave them English on
Indonesian pages. Their Indonesian lives in our catalogue's `wtforms` domain
(translations/id/LC_MESSAGES/wtforms.po); English pages keep the libraries' own text.
"""

from pathlib import Path

from flask_babel import Domain
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import ValidationError

from promkm_qr.core.text import HiddenCharacter, check_text

WTFORMS_DOMAIN = Domain(
    translation_directories=[str(Path(__file__).parent / "translations")], domain="wtforms"
)


class _Translations:
    """The gettext pair WTForms asks for, answered in the request's locale."""

    def gettext(self, string: str) -> str:
        return WTFORMS_DOMAIN.get_translations().ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return WTFORMS_DOMAIN.get_translations().ungettext(singular, plural, n)


def plain_text(form, field) -> None:
    """WTForms validator: refuse bidirectional and control characters (core.text)."""
    try:
        check_text(field.data or "")
    except HiddenCharacter as exc:
        raise ValidationError(str(exc)) from exc


def _typed(field) -> bool:
    """A field holding text a person typed; passwords are never shown, hidden fields never typed."""
    return isinstance(field, StringField) and not isinstance(field, HiddenField | PasswordField)


class Form(FlaskForm):
    """FlaskForm whose built-in messages follow the page's language and whose text fields all
    get plain_text, so no form can forget it."""

    class Meta:
        def get_translations(self, form):
            return _Translations()

    def validate(self, extra_validators=None) -> bool:
        extra = {name: list(chain) for name, chain in (extra_validators or {}).items()}
        for name, field in self._fields.items():
            if _typed(field):
                extra.setdefault(name, []).append(plain_text)
        return super().validate(extra)
