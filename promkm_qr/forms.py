"""The base of every form: each field a person types text into refuses hidden characters."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import ValidationError

from promkm_qr.core.text import HiddenCharacter, check_text


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
    """A FlaskForm whose text fields all get plain_text, so no form can forget it."""

    def validate(self, extra_validators=None) -> bool:
        extra = {name: list(chain) for name, chain in (extra_validators or {}).items()}
        for name, field in self._fields.items():
            if _typed(field):
                extra.setdefault(name, []).append(plain_text)
        return super().validate(extra)
