"""Marshmallow schemas of the API: what it accepts (unknown fields refused) and answers."""

from datetime import UTC, datetime

from marshmallow import RAISE, Schema, fields, validate

from promkm_qr.models.report import REPORT_STATES

# Years the programme can have data for; outside them a date would overflow Python's range.
MONTH = r"^(19|20)\d{2}-(0[1-9]|1[0-2])$"
EARLIEST = datetime(1900, 1, 2, tzinfo=UTC)
LATEST = datetime(2099, 12, 31, tzinfo=UTC)
NIP = r"^\d{18}$"


class Strict(Schema):
    """Refuses fields it does not know, in queries as in bodies."""

    class Meta:
        unknown = RAISE


class ProblemSchema(Schema):
    """An RFC 9457 problem document."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    instance = fields.String()
    errors = fields.Dict(metadata={"description": "Messages per refused field."})


class PageArgs(Strict):
    """Cursor paging: `limit` items after `cursor` (the `next_cursor` of the previous page)."""

    cursor = fields.String(validate=validate.Length(max=200))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class ComplianceArgs(PageArgs):
    """Which month, narrowed to an OPD or one ASN."""

    month = fields.String(required=True, validate=validate.Regexp(MONTH))
    opd_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    nip = fields.String(validate=validate.Regexp(NIP))


class OpdTotalsArgs(Strict):
    """Which month."""

    month = fields.String(required=True, validate=validate.Regexp(MONTH))
    opd_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))


class TppFileArgs(Strict):
    """Which closed month, one OPD or the whole city, which format."""

    month = fields.String(required=True, validate=validate.Regexp(MONTH))
    opd_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    format = fields.String(load_default="csv", validate=validate.OneOf(("csv", "xlsx")))


def _state_counts():
    """A count per report state, every state present."""
    return fields.Dict(
        keys=fields.String(validate=validate.OneOf(REPORT_STATES)),
        values=fields.Integer(),
        required=True,
    )


class AsnCompliance(Schema):
    """One ASN's month against its quota."""

    user_id = fields.Integer(required=True)
    nip = fields.String(required=True)
    name = fields.String(required=True)
    opd_id = fields.Integer(required=True, allow_none=True)
    opd = fields.String(required=True, allow_none=True)
    position_class = fields.String(required=True)
    month = fields.String(required=True)
    quota = fields.Integer(required=True, metadata={"description": "Rupiah."})
    counted_count = fields.Integer(required=True)
    counted_total = fields.Integer(required=True, metadata={"description": "Rupiah."})
    shortfall = fields.Integer(required=True, metadata={"description": "Rupiah, 0 when met."})
    met = fields.Boolean(required=True)
    state_counts = _state_counts()
    month_closed = fields.Boolean(required=True)


class CompliancePage(Schema):
    """A page of ASN rows."""

    items = fields.List(fields.Nested(AsnCompliance), required=True)
    next_cursor = fields.String(required=True, allow_none=True)
    month_closed = fields.Boolean(required=True)


class OpdTotals(Schema):
    """An OPD's month: how many ASN, how many met the quota, rupiah sums."""

    opd_id = fields.Integer(required=True, allow_none=True)
    opd = fields.String(required=True, allow_none=True)
    asn_count = fields.Integer(required=True)
    met_count = fields.Integer(required=True)
    below_count = fields.Integer(required=True)
    quota_total = fields.Integer(required=True)
    counted_total = fields.Integer(required=True)
    shortfall_total = fields.Integer(required=True)


class OpdTotalsPage(Schema):
    """Every OPD in view for a month."""

    month = fields.String(required=True)
    month_closed = fields.Boolean(required=True)
    items = fields.List(fields.Nested(OpdTotals), required=True)


class ReportArgs(PageArgs):
    """Reports changed since a moment (incremental sync), or of a month."""

    changed_since = fields.AwareDateTime(
        validate=validate.Range(min=EARLIEST, max=LATEST),
        metadata={"description": "ISO 8601 with offset; reports updated at or after it."},
    )
    month = fields.String(validate=validate.Regexp(MONTH))
    state = fields.String(validate=validate.OneOf(REPORT_STATES))


class Transition(Schema):
    """A step of a report's history."""

    from_state = fields.String(required=True, allow_none=True)
    to_state = fields.String(required=True)
    at = fields.String(required=True, metadata={"format": "date-time"})


class Report(Schema):
    """A purchase report without its photo or free text."""

    id = fields.Integer(required=True)
    reference = fields.String(required=True)
    state = fields.String(required=True, validate=validate.OneOf(REPORT_STATES))
    asn_user_id = fields.Integer(required=True)
    nip = fields.String(required=True, allow_none=True)
    opd_id = fields.Integer(required=True, allow_none=True)
    stall_id = fields.Integer(required=True)
    stall_code = fields.String(required=True)
    amount = fields.Integer(required=True, metadata={"description": "Rupiah."})
    goods_category = fields.String(required=True)
    payment_method = fields.String(required=True)
    purchased_at = fields.String(required=True, metadata={"format": "date-time"})
    created_at = fields.String(required=True, metadata={"format": "date-time"})
    updated_at = fields.String(required=True, metadata={"format": "date-time"})
    history = fields.List(fields.Nested(Transition), required=True)


class ReportPage(Schema):
    """A page of reports, oldest change first."""

    items = fields.List(fields.Nested(Report), required=True)
    next_cursor = fields.String(required=True, allow_none=True)


class StallArgs(PageArgs):
    """Stalls of one kelurahan (by its code) or all."""

    kelurahan_code = fields.String(validate=validate.Length(max=16))


class Stall(Schema):
    """The public fields of a stall and its region."""

    id = fields.Integer(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    status = fields.String(required=True)
    category = fields.String(required=True, allow_none=True)
    address = fields.String(required=True)
    lat = fields.Float(required=True, allow_none=True)
    lon = fields.Float(required=True, allow_none=True)
    kelurahan_code = fields.String(required=True)
    kelurahan = fields.String(required=True)
    kecamatan_code = fields.String(required=True)
    kecamatan = fields.String(required=True)
    updated_at = fields.String(required=True, metadata={"format": "date-time"})


class StallPage(Schema):
    """A page of stalls in code order."""

    items = fields.List(fields.Nested(Stall), required=True)
    next_cursor = fields.String(required=True, allow_none=True)


class DocumentArgs(PageArgs):
    """Documents of one period or kind."""

    period = fields.String(validate=validate.Regexp(MONTH))
    kind = fields.String(validate=validate.Length(max=32))


class DocumentMeta(Schema):
    """An issued document: what, whose, which month, and its SHA-256."""

    id = fields.String(required=True, metadata={"description": "Public id, also on the PDF."})
    kind = fields.String(required=True)
    subject = fields.String(required=True)
    period = fields.String(required=True)
    checksum = fields.String(required=True, allow_none=True)
    pages = fields.Integer(required=True, allow_none=True)
    size = fields.Integer(required=True, allow_none=True)
    generated_at = fields.String(required=True, allow_none=True, metadata={"format": "date-time"})


class DocumentPage(Schema):
    """A page of documents by id."""

    items = fields.List(fields.Nested(DocumentMeta), required=True)
    next_cursor = fields.String(required=True, allow_none=True)
