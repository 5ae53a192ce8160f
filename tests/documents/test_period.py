"""A document period is "TTTT-BB" in ASCII digits; anything else is refused with the message."""

import pytest

from promkm_qr.documents.data import parse_period


def test_a_period_splits_into_year_and_month():
    assert parse_period("2026-10") == (2026, 10)


@pytest.mark.parametrize("period", ["2026-1³", "２０２６-10", "2026-1", "2026/10", "", "2026-"])
def test_a_malformed_period_is_refused_with_the_format(app, period):
    with app.test_request_context(), pytest.raises(ValueError, match="TTTT-BB"):
        parse_period(period)


def test_a_month_past_twelve_is_refused(app):
    with app.test_request_context(), pytest.raises(ValueError, match="1 sampai 12"):
        parse_period("2026-13")
