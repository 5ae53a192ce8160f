"""A kecamatan-scoped staff member sees only that kecamatan: lists, counts, charts, exports."""

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from promkm_qr.dashboard import rollups
from promkm_qr.extensions import db
from promkm_qr.models import Kecamatan
from tests.conftest import login
from tests.dashboard.conftest import MARCH
from tests.factories import kelurahan, make_staff


@pytest.fixture
def taman_staff(client, city):
    """A reviewer limited to kecamatan Taman, signed in."""
    taman = db.session.scalar(select(Kecamatan).where(Kecamatan.name == "Taman"))
    make_staff("reviewer", username="taman", scope_kecamatan_id=taman.id)
    login(client, "dinas", "taman")
    return client


def _csv(client, url: str, **args) -> list[list[str]]:
    """A CSV export's rows; buffered, because the test client runs each request in its own
    context and a streamed body must be read inside it."""
    response = client.get(url, query_string=args, buffered=True)
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


@pytest.mark.parametrize("folded", [False, True], ids=["pending", "folded"])
def test_dashboard_counts_lists_and_charts_stay_in_the_kecamatan(taman_staff, folded):
    if folded:  # the same page from the rollups as from the pending deltas
        assert rollups.fold() > 0
    html = taman_staff.get("/dinas/dasbor", query_string=MARCH).get_data(as_text=True)
    # Taman in March: 70k + 15k submitted count; 30k disputed does not.
    assert "Rp85.000" in html and "Rp160.000" not in html
    assert "Lapak Selatan" in html and "Kedai Sepi" in html
    assert "Warung Utara" not in html
    assert "Kartoharjo" not in html and "Manguharjo" not in html  # charts, tables, area picker
    assert html.count("<svg") == 2
    assert "Roster ASN tidak terikat wilayah" in html  # no ASN list in a scoped view


def test_an_area_outside_the_scope_cannot_be_asked_for(taman_staff):
    north_kel = kelurahan("35.77.01.1001")
    html = taman_staff.get(
        "/dinas/dasbor", query_string={**MARCH, "kelurahan": north_kel.id}
    ).get_data(as_text=True)
    assert "Warung Utara" not in html and "Rp160.000" not in html
    rows = _csv(taman_staff, "/dinas/ekspor/laporan.csv", **{**MARCH, "kelurahan": north_kel.id})
    assert rows[1:] == []


def test_every_export_stays_in_the_kecamatan(taman_staff):
    reports = _csv(taman_staff, "/dinas/ekspor/laporan.csv", **MARCH)
    assert {r[5] for r in reports[1:]} == {"Lapak Selatan"} and len(reports) == 4
    stalls = _csv(taman_staff, "/dinas/ekspor/lapak.csv", **MARCH)
    assert sorted(r[1] for r in stalls[1:]) == ["Kedai Sepi", "Lapak Selatan"]
    review = _csv(taman_staff, "/dinas/ekspor/tinjauan.csv", **MARCH)
    assert {r[5] for r in review[1:]} == {"Lapak Selatan"} and len(review) == 3
    response = taman_staff.get("/dinas/ekspor/laporan.xlsx", query_string=MARCH, buffered=True)
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert {row[5] for row in sheet.iter_rows(min_row=2, values_only=True)} == {"Lapak Selatan"}
    assert taman_staff.get("/dinas/ekspor/asn.csv", query_string=MARCH).status_code == 403


def test_city_wide_staff_see_both_kecamatan(client, city):
    make_staff("viewer", username="kota")
    login(client, "dinas", "kota")
    html = client.get("/dinas/dasbor", query_string=MARCH).get_data(as_text=True)
    assert "Warung Utara" in html and "Lapak Selatan" in html and "Rp160.000" in html
    reports = _csv(client, "/dinas/ekspor/laporan.csv", **MARCH)
    assert {r[5] for r in reports[1:]} == {"Warung Utara", "Lapak Selatan"}
    assert client.get("/dinas/ekspor/tinjauan.csv").status_code == 403  # viewers do not review
