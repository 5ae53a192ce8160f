"""What a dashboard or export looks at: a WIB date range and an area, inside the staff scope."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, literal_column, select

from promkm_qr.core.dates import now_wib, wib_day_start
from promkm_qr.extensions import db
from promkm_qr.models import Kelurahan

WIB_OFFSET = timedelta(hours=7)  # WIB has no daylight saving: a fixed offset is exact


@dataclass(frozen=True)
class Filters:
    """A period (WIB dates, both ends included) and the kelurahan in view (None: whole city)."""

    start: date
    end: date
    kelurahan_ids: tuple[int, ...] | None = None
    # True for staff limited to a kecamatan/kelurahan: the ASN roster (which has no region)
    # stays out of their view.
    scope_limited: bool = False

    @property
    def utc_bounds(self) -> tuple[datetime, datetime]:
        """The half-open [start, end) of the period as naive UTC, as stored."""
        return wib_day_start(self.start), wib_day_start(self.end + timedelta(days=1))

    @property
    def months(self) -> int:
        """How many calendar months the period touches (quotas are monthly)."""
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1

    @property
    def whole_months(self) -> bool:
        """Whether the period starts on a month's first day and ends on a month's last day."""
        return self.start.day == 1 and (self.end + timedelta(days=1)).day == 1

    @property
    def city_wide(self) -> bool:
        """Whether nothing narrows the view below the whole city."""
        return self.kelurahan_ids is None


def this_month() -> tuple[date, date]:
    """The first and last WIB day of the current month."""
    today = now_wib().date()
    first = today.replace(day=1)
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first, following - timedelta(days=1)


def parse_date(text: str | None) -> date | None:
    """A YYYY-MM-DD date from a query string, or None when absent or malformed."""
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def build_filters(
    allowed: list[int] | None,
    start: date | None = None,
    end: date | None = None,
    kecamatan_id: int | None = None,
    kelurahan_id: int | None = None,
) -> Filters:
    """Filters for a staff member: the chosen area narrowed to the kelurahan their scope allows."""
    default_start, default_end = this_month()
    start, end = start or default_start, end or default_end
    if end < start:
        start, end = end, start
    chosen = None
    if kelurahan_id:
        chosen = [kelurahan_id]
    elif kecamatan_id:
        chosen = list(
            db.session.scalars(select(Kelurahan.id).where(Kelurahan.kecamatan_id == kecamatan_id))
        )
    if allowed is None:
        ids = chosen
    elif chosen is None:
        ids = allowed
    else:
        ids = [i for i in chosen if i in allowed]
    return Filters(start, end, None if ids is None else tuple(sorted(ids)), allowed is not None)


def wib_text(column, unit: str):
    """A timestamp column as its WIB day ("YYYY-MM-DD") or month ("YYYY-MM"), per dialect."""
    if db.session.get_bind().dialect.name == "postgresql":
        pattern = "YYYY-MM-DD" if unit == "day" else "YYYY-MM"
        return func.to_char(column + literal_column("interval '7 hours'"), pattern)
    pattern = "%Y-%m-%d" if unit == "day" else "%Y-%m"
    return func.strftime(pattern, column, "+7 hours")
