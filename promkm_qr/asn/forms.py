"""Forms of the ASN pages; the domain checks themselves live in promkm_qr.reports.submit."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, Length, ValidationError

from promkm_qr.forms import Form
from promkm_qr.reports import submit


def _checked(check):
    """A WTForms validator that stores what a domain check returns, or shows its message."""

    def validator(form, field):
        try:
            field.checked = check(field.data)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc

    return validator


class PurchaseForm(Form):
    """What was bought, for how much, when and how it was paid (the fields an edit may change)."""

    amount = StringField(
        _l("Nominal belanja"),
        validators=[_checked(submit.check_amount)],
        render_kw={"inputmode": "numeric", "placeholder": "50.000", "autocomplete": "off"},
    )
    goods_category = SelectField(
        _l("Jenis barang"),
        choices=[SelectChoice(v, label) for v, label in submit.GOODS_CATEGORIES],
        # AnyOf instead of WTForms' own choice check, whose message is English only.
        validate_choice=False,
        validators=[AnyOf([v for v, _ in submit.GOODS_CATEGORIES], _l("Pilih jenis barang."))],
    )
    description = TextAreaField(
        _l("Keterangan singkat"),
        validators=[Length(max=300, message=_l("Keterangan paling banyak 300 huruf."))],
        render_kw={"rows": 2, "maxlength": 300, "placeholder": _l("contoh: nasi pecel 2 porsi")},
    )
    purchased_at = StringField(
        _l("Tanggal dan jam pembelian (WIB)"),
        validators=[_checked(submit.check_purchased_at)],
        render_kw={"type": "datetime-local"},
    )
    payment_method = RadioField(
        _l("Cara bayar"),
        choices=[SelectChoice(v, label) for v, label in submit.PAYMENT_METHODS],
        default="tunai",
        validate_choice=False,
        validators=[AnyOf([v for v, _ in submit.PAYMENT_METHODS], _l("Pilih cara bayar."))],
    )

    def purchase_values(self) -> dict:
        """The checked values, ready for the report service."""
        return {
            "amount": self.amount.checked,
            "goods_category": self.goods_category.data,
            "description": (self.description.data or "").strip(),
            "payment_method": self.payment_method.data,
            "purchased_at": self.purchased_at.checked,
        }


class ReportForm(PurchaseForm):
    """The report form: the purchase, its photo, the phone's position and the one-time key."""

    class Meta:
        # CSRFProtect checks every POST before the view runs, and the page writes its token
        # itself: a token field of the form's own would make and check it a second time.
        csrf = False

    form_key = HiddenField(validators=[DataRequired(), Length(min=16, max=64)])
    photo = FileField(
        _l("Foto barang atau nota"),
        validators=[_checked(lambda f: submit.check_photo(f.read() if f else None))],
        render_kw={"accept": "image/jpeg,image/png,image/webp"},
    )
    lat = HiddenField()
    lon = HiddenField()


class StallCodeForm(Form):
    """The stall code printed under the QR, typed by hand."""

    code = StringField(
        _l("Kode lapak"),
        validators=[DataRequired(_l("Ketik kode lapak yang tertulis di bawah QR."))],
        render_kw={
            "inputmode": "numeric",
            "placeholder": "3577011001-00042",
            "autocomplete": "off",
        },
    )


class WithdrawForm(Form):
    """Withdrawing a report, with an optional reason."""

    reason = StringField(_l("Alasan (boleh kosong)"), validators=[Length(max=200)])
