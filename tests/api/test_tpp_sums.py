"""The TPP file made by the real worker equals sums taken straight from the reports.

The expected rows are plain SQL over purchase_reports, asn_profiles and quota_rules written
from the rules (docs/api.md, DOMAIN.md), not the app's compliance query or its rollups: a
calendar month in WIB; the counted states are submitted, confirmed and verified; the quota
is the rule's amount, or for a TPP-share rule the share of the TPP with the amount as floor;
the shortfall is what the counted total lacks of the quota, never negative; spend counts
wherever the report was filed, and the ASN is listed under the OPD the roster gives now.
"""

import csv
import hashlib
import io
from datetime import datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from promkm_qr.dashboard import rollups
from promkm_qr.extensions import db
from promkm_qr.models import QuotaRule
from promkm_qr.reports.workflow import transition
from tests.api.conftest import MONTH, tpp_job
from tests.conftest import login
from tests.factories import make_asn, make_opd, make_report, make_staff, make_stall

# March 2026 in WIB (UTC+7) as stored (naive UTC).
MONTH_SQL = "r.purchased_at >= '2026-02-28 17:00:00' AND r.purchased_at < '2026-03-31 17:00:00'"
COUNTED = "('submitted', 'confirmed', 'verified')"
STATES = ("submitted", "confirmed", "disputed", "verified", "rejected", "withdrawn")
TPP_SHARE = "CAST(coalesce(p.tpp_amount, 0) AS BIGINT) * q.tpp_share_pct / 100"
EXPECTED_SQL = f"""
WITH people AS (
  SELECT u.id, u.nip, u.name, coalesce(o.name, '') AS opd, p.opd_id, p.position_class,
    CASE WHEN q.id IS NULL THEN 0
         WHEN q.kind = 'tpp_share' AND coalesce(q.tpp_share_pct, 0) <> 0
              AND {TPP_SHARE} > q.amount THEN {TPP_SHARE}
         ELSE q.amount END AS quota
  FROM asn_profiles p JOIN users u ON u.id = p.user_id
  LEFT JOIN opd o ON o.id = p.opd_id
  LEFT JOIN quota_rules q ON q.position_class = p.position_class
  WHERE p.on_roster
), spent AS (
  SELECT r.asn_id,
    sum(CASE WHEN r.state IN {COUNTED} THEN r.amount ELSE 0 END) AS counted,
    {", ".join(f"sum(CASE WHEN r.state = '{s}' THEN 1 ELSE 0 END) AS n_{s}" for s in STATES)}
  FROM purchase_reports r WHERE {MONTH_SQL} GROUP BY r.asn_id
)
SELECT people.*, coalesce(spent.counted, 0) AS counted,
  CASE WHEN people.quota > coalesce(spent.counted, 0)
       THEN people.quota - coalesce(spent.counted, 0) ELSE 0 END AS shortfall,
  {", ".join(f"coalesce(spent.n_{s}, 0) AS n_{s}" for s in STATES)}
FROM people LEFT JOIN spent ON spent.asn_id = people.id
ORDER BY people.id
"""  # noqa: S608 (constant pieces)


def _at(day: int, hour: int = 3, month: int = 3, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, second)


@pytest.fixture
def month_of_every_kind(app):
    """Reports in every state, some decided after filing (through the real transitions, part
    folded into the rollups and part left pending), an ASN over the quota, a TPP-share quota,
    an ASN moved to another OPD, one off the roster, and reports just outside the month."""
    first, second = make_opd("TPS1", "Dinas Satu"), make_opd("TPS2", "Dinas Dua")
    db.session.add(
        QuotaRule(position_class="uji-tpp", kind="tpp_share", amount=100_000, tpp_share_pct=10)
    )
    db.session.commit()
    stall = make_stall(name="Warung Jumlah")
    over = make_asn(name="Lebih", opd=first, position="pelaksana")  # quota 50,000
    mixed = make_asn(name="Campur", opd=first, position="pelaksana")
    share = make_asn(name="Bagian", opd=second, position="uji-tpp", tpp_amount=3_000_000)
    floor = make_asn(name="Lantai", opd=second, position="uji-tpp", tpp_amount=500_000)
    moved = make_asn(name="Pindah", opd=first, position="eselon-iii")
    gone = make_asn(name="Keluar", opd=first, position="pelaksana", on_roster=False)
    make_report(over, stall, 150_000, _at(10), "confirmed")
    make_report(over, stall, 50_000, datetime(2026, 2, 28, 17), "verified")  # 1 March 00:00 WIB
    make_report(mixed, stall, 40_000, _at(11), "disputed")
    make_report(mixed, stall, 30_000, _at(11), "submitted")
    then_verified = make_report(mixed, stall, 20_000, _at(12), "submitted")
    then_rejected = make_report(mixed, stall, 25_000, _at(12), "submitted")
    make_report(share, stall, 1_000_000, _at(13), "rejected")
    make_report(share, stall, 60_000, _at(13), "withdrawn")
    confirmed_rejected = make_report(share, stall, 70_000, _at(14), "confirmed")
    make_report(share, stall, 120_000, _at(31, 16, minute=59), "verified")  # 23:59 WIB
    make_report(moved, stall, 30_000, _at(5), "verified")
    make_report(moved, stall, 80_000, datetime(2026, 2, 28, 16, 59, 59), "verified")  # February
    make_report(gone, stall, 500_000, _at(6), "verified")
    rollups.fold()
    for report, steps in (
        (then_verified, ("disputed", "verified")),
        (then_rejected, ("disputed", "rejected")),
        (confirmed_rejected, ("rejected",)),
    ):
        for state in steps:
            transition(report.id, state, actor_id=None, reason="uji")
        db.session.commit()
    moved.asn.opd_id = second.id
    db.session.commit()
    make_report(moved, stall, 45_000, _at(20), "submitted")  # filed under the new OPD
    make_report(moved, stall, 90_000, datetime(2026, 3, 31, 17), "verified")  # April in WIB
    make_report(floor, stall, 99_000, _at(2, month=4), "verified")
    return {"opds": (first, second), "people": (over, mixed, share, floor, moved, gone)}


def _expected(opd_id: int | None) -> list[tuple[str, ...]]:
    """The file's data lines by the SQL above, as the CSV writes them."""
    rows = db.session.execute(text(EXPECTED_SQL)).mappings().all()
    columns = ("nip", "name", "opd", "position_class", "quota", "counted", "shortfall",
               *(f"n_{s}" for s in STATES))  # fmt: skip
    return [
        tuple(str(r[c]) for c in columns) for r in rows if opd_id is None or r["opd_id"] == opd_id
    ]


def _compare(lines: list[list[str]], expected: list[tuple[str, ...]]) -> None:
    """Header, one line per ASN equal to the SQL's, and a checksum line computed here."""
    header, *data, last = lines
    assert header[0] == "NIP" and header[-1] == "Laporan withdrawn"
    assert [tuple(row) for row in data] == expected
    digest = hashlib.sha256("".join("|".join(row) + "\n" for row in expected).encode())
    sums = [str(sum(int(row[i]) for row in expected)) for i in range(4, len(expected[0]))]
    assert last == ["CHECKSUM", str(len(expected)), f"sha256:{digest.hexdigest()}", "", *sums]


def _csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode().lstrip("\ufeff"))))


def _xlsx(data: bytes) -> list[list[str]]:
    book = load_workbook(io.BytesIO(data), read_only=True)
    cells = list(book.active.iter_rows())
    assert all(row[0].data_type == "s" for row in cells)  # NIP stays text
    rows = [["" if c.value is None else str(c.value) for c in row] for row in cells]
    book.close()
    return rows


@pytest.mark.worker
@pytest.mark.slow
def test_the_files_totals_equal_sql_sums_of_the_reports(app, client, worker, month_of_every_kind):
    over, mixed, share, floor, moved, gone = month_of_every_kind["people"]
    second = month_of_every_kind["opds"][1]
    city = _expected(None)
    by_nip = {row[0]: row for row in city}
    # The SQL itself, checked against the seeded story.
    assert gone.nip not in by_nip
    assert by_nip[over.nip][4:7] == ("50000", "200000", "0")
    assert by_nip[mixed.nip][4:7] == ("50000", "50000", "0")  # 30,000 + 20,000 verified
    assert by_nip[mixed.nip][7:] == ("1", "0", "1", "1", "1", "0")
    assert by_nip[share.nip][4:7] == ("300000", "120000", "180000")
    assert by_nip[floor.nip][4:7] == ("100000", "0", "100000")
    assert by_nip[moved.nip][2] == "Dinas Dua" and by_nip[moved.nip][5] == "75000"
    make_staff("operator", username="gaji")
    login(client, "dinas", "gaji")
    _compare(_csv(tpp_job(client, MONTH, None, "csv")), city)
    _compare(_xlsx(tpp_job(client, MONTH, None, "xlsx")), city)
    mine = _expected(second.id)
    assert {row[0] for row in mine} == {share.nip, floor.nip, moved.nip}
    _compare(_csv(tpp_job(client, MONTH, second.id, "csv")), mine)
