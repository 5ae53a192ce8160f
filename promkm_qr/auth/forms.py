"""Forms of the sign-in pages."""

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, PasswordField, RadioField, SelectChoice, StringField
from wtforms.validators import DataRequired, EqualTo

from promkm_qr.forms import Form


class LoginForm(Form):
    """Sign-in: the role decides what the identifier is (NIP, phone or username)."""

    role = RadioField(
        _l("Masuk sebagai"),
        choices=[
            SelectChoice("asn", _l("ASN")),
            SelectChoice("merchant", _l("Pelaku UMKM")),
            SelectChoice("dinas", _l("Petugas")),
        ],
        default="asn",
    )
    identifier = StringField(_l("NIP / Nomor HP / Nama pengguna"), validators=[DataRequired()])
    password = PasswordField(_l("Kata sandi"), validators=[DataRequired()])
    next = HiddenField()


class ActivateForm(Form):
    """Setting a password with an activation code: first sign-in, or after a staff reset."""

    identifier = StringField(_l("NIP"), validators=[DataRequired()])
    code = StringField(_l("Kode aktivasi"), validators=[DataRequired()])
    # The rules (length, common, equal to the login) are the service's: one place for all.
    password = PasswordField(_l("Kata sandi baru"), validators=[DataRequired()])
    confirm = PasswordField(
        _l("Ulangi kata sandi"),
        validators=[DataRequired(), EqualTo("password", _l("Kata sandi tidak sama."))],
    )
    next = HiddenField()


class MerchantActivateForm(ActivateForm):
    """A merchant activates with the phone number the stall was registered with."""

    identifier = StringField(_l("Nomor HP"), validators=[DataRequired()])


class PasswordForm(Form):
    """Change of password by a signed-in user."""

    current = PasswordField(_l("Kata sandi sekarang"), validators=[DataRequired()])
    password = PasswordField(_l("Kata sandi baru"), validators=[DataRequired()])
    confirm = PasswordField(
        _l("Ulangi kata sandi"),
        validators=[DataRequired(), EqualTo("password", _l("Kata sandi tidak sama."))],
    )


class SecondFactorForm(Form):
    """The second sign-in step: a code from the authenticator app, or a recovery code."""

    code = StringField(_l("Kode"), validators=[DataRequired()])
