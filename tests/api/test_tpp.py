"""The TPP file: NIP as text, a checksum line, totals equal to independent SQL sums, made by
a real worker for a closed month and refused for an open one."""

import csv
import hashlib
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import event, insert, select, text

from promkm_qr.api.tpp import MonthOpen, tpp_file
from promkm_qr.core.dates import now_wib
from promkm_qr.extensions import db
from promkm_qr.models import AsnProfile, User
from tests.api.conftest import MONTH, bearer, tpp_job
from tests.conftest import login
from tests.factories import make_staff

# Independent of the app's queries: counted spend of rostered ASN in March 2026 (WIB).
SPEND_SQL = text(
    "SELECT coalesce(sum(r.amount), 0) FROM purchase_reports r "
    "JOIN asn_profiles p ON p.user_id = r.asn_id AND p.on_roster "
    "WHERE r.state IN ('submitted', 'confirmed', 'verified') "
    "AND r.purchased_at >= '2026-02-28 17:00:00' AND r.purchased_at < '2026-03-31 17:00:00'"
)
QUOTA_SQL = text(
    "SELECT coalesce(sum(q.amount), 0) FROM asn_profiles p "
    "JOIN quota_rules q ON q.position_class = p.position_class WHERE p.on_roster"
)


def _check(rows: list[list[str]], city) -> None:
    header, *data, last = rows
    assert header[:3] == ["NIP", "Nama", "OPD"]
    assert sorted(r[0] for r in data) == sorted(p.nip for p in city["people"])
    assert last[0] == "CHECKSUM" and last[1] == str(len(data))
    joined = "".join("|".join(str(v) for v in row) + "\n" for row in data)
    assert last[2] == "sha256:" + hashlib.sha256(joined.encode()).hexdigest()
    quota, counted, shortfall = (int(v) for v in last[4:7])
    assert counted == db.session.scalar(SPEND_SQL) == 230_000
    assert quota == db.session.scalar(QUOTA_SQL)
    assert shortfall == sum(max(0, int(r[4]) - int(r[5])) for r in data)


def test_the_xlsx_keeps_nip_as_text_and_sums_match_sql(app, city):
    book = load_workbook(io.BytesIO(tpp_file(MONTH, None, "xlsx")[0]), read_only=True)
    sheet = book.active
    cells = list(sheet.iter_rows())
    assert all(row[0].data_type == "s" for row in cells)  # NIP (and titles) are text
    rows = [["" if c.value is None else str(c.value) for c in row] for row in cells]
    _check(rows, city)
    book.close()


def test_an_open_month_has_no_file(app, city):
    with pytest.raises(MonthOpen):
        tpp_file(now_wib().strftime("%Y-%m"), None, "csv")


@pytest.mark.worker
@pytest.mark.slow
def test_staff_start_the_job_and_download_the_csv(app, client, worker, city):
    make_staff("operator", username="gaji")
    login(client, "dinas", "gaji")
    data = tpp_job(client, MONTH, None, "csv")
    rows = list(csv.reader(io.StringIO(data.decode().lstrip("\ufeff"))))
    _check(rows, city)


def test_the_file_through_read_compliance_is_the_staff_file(client, city):
    headers = bearer("read:compliance")
    answer = client.get(f"/api/v1/compliance/tpp-file?month={MONTH}", headers=headers)
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert answer.get_data() == tpp_file(MONTH, None, "csv")[0]
    rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))))
    _check(rows, city)
    open_month = now_wib().strftime("%Y-%m")
    refused = client.get(f"/api/v1/compliance/tpp-file?month={open_month}", headers=headers)
    assert refused.status_code == 409 and refused.mimetype == "application/problem+json"
    own = city["opds"][0]
    scoped = bearer("read:compliance", opd_id=own.id)
    mine = client.get(f"/api/v1/compliance/tpp-file?month={MONTH}", headers=scoped)
    lines = mine.get_data(as_text=True).strip().splitlines()
    assert len(lines) == 1 + 2 + 1  # header, the OPD's two ASN, checksum


def _statements_of_file() -> int:
    seen = []
    engine = db.session.get_bind()
    listener = lambda *args: seen.append(args[2])  # noqa: E731 (args[2]: the statement)
    event.listen(engine, "before_cursor_execute", listener)
    try:
        data, _ids = tpp_file(MONTH, None, "csv")
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return len(seen), data.count(b"\n")


def test_the_file_is_one_query_however_many_asn(app, city):
    small, lines = _statements_of_file()
    assert lines == 1 + 4 + 1
    opd = city["opds"][0].id
    users = [
        {"role": "asn", "name": f"Banyak {n}", "nip": f"19800101200501{1 + n % 2}{n:03d}"[-18:]}
        for n in range(2_500)
    ]
    ids = db.session.execute(insert(User).values(users).returning(User.id)).scalars().all()
    db.session.execute(
        insert(AsnProfile),
        [{"user_id": i, "opd_id": opd, "position_class": "pelaksana"} for i in ids],
    )
    db.session.commit()
    assert db.session.scalar(select(User.id).where(User.name == "Banyak 0")) in ids
    many, lines = _statements_of_file()
    assert lines == 1 + 4 + 2_500 + 1
    assert many == small
