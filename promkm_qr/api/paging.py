"""Opaque cursors and WIB time formats shared by the API's lists."""

import base64
import binascii
import json
from datetime import UTC, date, datetime, timedelta, timezone

from werkzeug.exceptions import BadRequest

from promkm_qr.dashboard.filters import WIB_OFFSET, Filters

WIB = timezone(WIB_OFFSET, "WIB")


def encode_cursor(*key) -> str:
    """The cursor after a row with this sort key."""
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, types: tuple[type, ...]) -> list | None:
    """The sort key a cursor holds; 400 when it is not one this list made."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        key = None
    if (
        not isinstance(key, list)
        or len(key) != len(types)
        or not all(
            isinstance(v, t) and not isinstance(v, bool) for v, t in zip(key, types, strict=True)
        )
    ):
        key = None
    if key is None:
        raise invalid_cursor()
    return key


def invalid_cursor() -> BadRequest:
    """The 400 for a cursor this API did not make."""
    error = BadRequest()
    error.api_detail = "The cursor is not valid; start again without it."
    return error


def iso_wib(moment: datetime | None) -> str | None:
    """A stored naive-UTC time as ISO 8601 in WIB with its offset (+07:00)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC).astimezone(WIB).isoformat()


def month_filters(month: str) -> Filters:
    """City-wide filters for one calendar month given as YYYY-MM."""
    year, number = map(int, month.split("-"))
    first = date(year, number, 1)
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return Filters(first, following - timedelta(days=1))
