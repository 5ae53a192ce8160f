"""A small city: stalls in Kartoharjo and Taman, ASN of two OPDs, reports over two months."""

from datetime import datetime

import pytest

from tests.factories import make_asn, make_opd, make_report, make_stall

KARTOHARJO_KEL = "35.77.01.1001"
TAMAN_KEL = "35.77.03.1001"


@pytest.fixture
def city(app):
    """Reports in March 2026 (and one in February) at stalls in two kecamatan."""
    dinkes, bappeda = make_opd("DINKES", "Dinas Kesehatan"), make_opd("BAPPEDA", "Bappeda")
    asn_a = make_asn(name="Ani Kartika", opd=dinkes)
    asn_b = make_asn(name="Budi Santoso", opd=bappeda, position="eselon-iii")
    make_asn(name="Citra Lestari", opd=bappeda)  # on the roster, never reports
    north = make_stall(name="Warung Utara", kel_code=KARTOHARJO_KEL, phone="081211112222")
    south = make_stall(name="Lapak Selatan", kel_code=TAMAN_KEL)
    make_stall(name="Kedai Sepi", kel_code=TAMAN_KEL)  # active, no sales
    reports = [
        # 2026-03-01 06:00 WIB is 2026-02-28 23:00 UTC: it belongs to March.
        make_report(asn_a, north, 50_000, datetime(2026, 2, 28, 23, 0), "verified"),
        make_report(asn_a, north, 25_000, datetime(2026, 3, 5, 3, 0), "confirmed"),
        make_report(asn_b, north, 10_000, datetime(2026, 3, 5, 4, 0), "rejected"),
        make_report(
            asn_b, south, 70_000, datetime(2026, 3, 6, 2, 0), "submitted", flags=["duplicate_photo"]
        ),
        make_report(asn_b, south, 30_000, datetime(2026, 3, 7, 2, 0), "disputed"),
        # 2026-03-31 23:30 WIB: still March; 2026-04-01 00:30 WIB would not be.
        make_report(asn_a, south, 15_000, datetime(2026, 3, 31, 16, 30), "submitted"),
        make_report(asn_a, south, 99_000, datetime(2026, 3, 31, 17, 30), "verified"),
        make_report(asn_b, north, 40_000, datetime(2026, 2, 10, 3, 0), "verified"),
    ]
    return {"north": north, "south": south, "asn_a": asn_a, "asn_b": asn_b, "reports": reports}


MARCH = {"mulai": "2026-03-01", "sampai": "2026-03-31"}
