"""The stall forms of staff and merchants; the checks themselves are registry.clean's."""

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, SubmitField, TextAreaField

from promkm_qr.core.text import whole_number
from promkm_qr.forms import Form

NUMERIC = {"inputmode": "numeric", "autocomplete": "off"}
DECIMAL = {"inputmode": "decimal", "autocomplete": "off"}


def _id(value) -> int | None:
    """A select's value as an id; the placeholder's "" (or anything else) as None."""
    return whole_number(value)


def _choices(rows, placeholder) -> list[tuple]:
    """The placeholder first (value ""), so a required select starts empty."""
    return [("", placeholder), *((row.id, row.name) for row in rows)]


class MerchantStallForm(Form):
    """A merchant registers one of their own stalls (their phone is their account's)."""

    VALUE_FIELDS = ("name", "kelurahan_id", "category_id", "address", "owner_nik", "nib")

    name = StringField(_l("Nama usaha"), render_kw={"required": True, "maxlength": 200})
    kelurahan_id = SelectField(
        _l("Kelurahan"), coerce=_id, validate_choice=False, render_kw={"required": True}
    )
    category_id = SelectField(_l("Kategori"), coerce=_id, validate_choice=False)
    address = StringField(_l("Alamat"), render_kw={"maxlength": 300})
    owner_nik = StringField(_l("NIK Anda (16 angka)"), render_kw=NUMERIC)
    nib = StringField(_l("NIB (13 angka, jika ada)"), render_kw=NUMERIC)

    def set_choices(self, kelurahan, categories) -> None:
        self.kelurahan_id.choices = _choices(kelurahan, _l("Pilih kelurahan"))
        self.category_id.choices = _choices(categories, _l("Tanpa kategori"))

    def values(self) -> dict:
        """The typed values, as registry.clean takes them."""
        return {name: self[name].data for name in self.VALUE_FIELDS}

    def show_errors(self, errors: dict[str, str]) -> None:
        """Put the registry's messages under their fields (one that has none goes on name)."""
        for name, message in errors.items():
            field = self._fields.get(name, self.name)
            field.errors = [*field.errors, message]


class StallForm(MerchantStallForm):
    """Staff register or edit any stall: the owner's NIK and phone, coordinates and QRIS."""

    VALUE_FIELDS = (*MerchantStallForm.VALUE_FIELDS, "phone", "lat", "lon", "qris_payload")

    owner_nik = StringField(_l("NIK pemilik (16 angka)"), render_kw=NUMERIC)
    phone = StringField(_l("Nomor HP pemilik"), render_kw={"type": "tel", "autocomplete": "off"})
    lat = StringField(_l("Lintang (opsional)"), render_kw=DECIMAL)
    lon = StringField(_l("Bujur (opsional)"), render_kw=DECIMAL)
    qris_payload = TextAreaField(
        _l("Data QRIS lapak (tempel hasil pindai, opsional)"), render_kw={"rows": 3}
    )
    read_qris = SubmitField(_l("Baca QRIS"))
