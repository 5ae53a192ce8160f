"""Forms of the merchant pages: confirm (one or many) and dispute with a reason."""

from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice, SelectField, SelectMultipleField, TextAreaField
from wtforms.validators import DataRequired, Length

from promkm_qr.forms import Form
from promkm_qr.reports.review import DISPUTE_REASONS


class ConfirmForm(Form):
    """Confirm the ticked reports (or the one report of a single-report form)."""

    report_id = SelectMultipleField(_l("Laporan"), coerce=int, validate_choice=False)


class DisputeForm(Form):
    """Dispute one report: a reason from the list and, optionally, a note."""

    reason = SelectField(
        _l("Alasan sanggahan"),
        choices=[SelectChoice(code, label) for code, label in DISPUTE_REASONS.items()],
        validators=[DataRequired(_l("Pilih alasan sanggahan."))],
    )
    note = TextAreaField(_l("Keterangan"), validators=[Length(max=300)])
