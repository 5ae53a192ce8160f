"""What the resources answer: the dashboard's totals, paging, incremental sync, the audit."""

from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from promkm_qr.api.schemas import CompliancePage
from promkm_qr.dashboard import compliance
from promkm_qr.dashboard.filters import Filters
from promkm_qr.extensions import db
from promkm_qr.models import AuditEntry, PurchaseReport
from promkm_qr.models.base import utcnow
from tests.api.conftest import MONTH, bearer
from tests.factories import make_stall


def _all(client, url: str, headers: dict) -> list[dict]:
    """Every item of a list, page by page (two per page, to cross page ends)."""
    items, cursor = [], None
    while True:
        sep = "&" if "?" in url else "?"
        page_url = f"{url}{sep}limit=2" + (f"&cursor={cursor}" if cursor else "")
        answer = client.get(page_url, headers=headers)
        assert answer.status_code == 200, answer.get_json()
        page = answer.get_json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def test_compliance_equals_the_dashboard(client, city):
    headers = bearer("read:compliance")
    rows = _all(client, f"/api/v1/compliance/asn?month={MONTH}", headers)
    dashboard = compliance.asn_compliance(Filters(date(2026, 3, 1), date(2026, 3, 31)))
    assert len(rows) == len(dashboard) == 4
    by_nip = {r["nip"]: r for r in rows}
    for expected in dashboard:
        got = by_nip[expected["nip"]]
        assert (got["quota"], got["counted_total"], got["counted_count"], got["met"]) == (
            expected["quota"], expected["amount"], expected["count"], expected["met"]
        )  # fmt: skip
        assert got["shortfall"] == max(0, got["quota"] - got["counted_total"])
    first, second = city["people"][:2]
    assert by_nip[first.nip]["state_counts"] == {
        "submitted": 0, "confirmed": 1, "disputed": 0, "verified": 1, "rejected": 0,
        "withdrawn": 0,
    }  # fmt: skip
    assert by_nip[second.nip]["counted_total"] == 30_000  # a dispute does not count
    assert by_nip[second.nip]["state_counts"]["disputed"] == 1
    assert all(r["month_closed"] for r in rows)  # March 2026 is long past
    one = client.get(f"/api/v1/compliance/asn?month={MONTH}&nip={first.nip}", headers=headers)
    assert [r["nip"] for r in one.get_json()["items"]] == [first.nip]
    opds = client.get(f"/api/v1/compliance/opd?month={MONTH}", headers=headers).get_json()
    assert sum(o["asn_count"] for o in opds["items"]) == 4
    assert sum(o["counted_total"] for o in opds["items"]) == sum(r["amount"] for r in dashboard)
    assert sum(o["shortfall_total"] for o in opds["items"]) == sum(r["shortfall"] for r in rows)


def test_a_compliance_page_is_what_its_schema_says(client, city):
    headers = bearer("read:compliance")
    for query in ("limit=3", "limit=500"):
        answer = client.get(f"/api/v1/compliance/asn?month={MONTH}&{query}", headers=headers)
        assert answer.status_code == 200 and answer.mimetype == "application/json"
        body = answer.get_json()
        assert body["items"]
        CompliancePage().load(body)  # every field present, of its type, none unknown
        assert CompliancePage().dump(body) == body


def test_personal_reads_are_audited_with_ids_only(client, city):
    headers = bearer("read:compliance")
    client.get(f"/api/v1/compliance/asn?month={MONTH}", headers=headers)
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "api.personal_data_read")
    )
    assert entry.object_type == "api_client" and entry.data["route"] == "compliance.asn"
    assert sorted(entry.data["user_ids"]) == sorted(p.id for p in city["people"])
    text = str(entry.data)
    assert not any(p.nip in text or p.name in text for p in city["people"])


def test_reports_sync_by_change_time_with_history_and_wib_times(client, city):
    headers = bearer("read:reports")
    reports = _all(client, "/api/v1/reports", headers)
    assert len(reports) == db.session.scalar(select(func.count(PurchaseReport.id))) == 6
    disputed = next(r for r in reports if r["state"] == "disputed")
    assert [h["to_state"] for h in disputed["history"]] == ["submitted", "disputed"]
    assert disputed["purchased_at"] == "2026-03-10T10:00:00+07:00"
    assert "photo" not in str(reports) and "description" not in disputed
    # Incremental sync: only what changed since the last report read comes again.
    last = max(r["updated_at"] for r in reports)
    changed = db.session.get(PurchaseReport, disputed["id"])
    changed.state, changed.updated_at = "verified", utcnow() + timedelta(seconds=5)
    db.session.commit()
    since = datetime.fromisoformat(last) + timedelta(seconds=1)
    fresh = client.get(
        "/api/v1/reports", query_string={"changed_since": since.isoformat()}, headers=headers
    ).get_json()["items"]
    assert [(r["id"], r["state"]) for r in fresh] == [(disputed["id"], "verified")]
    march = _all(client, f"/api/v1/reports?month={MONTH}", headers)
    assert len(march) == 5


def test_stalls_show_public_fields_of_active_stalls(client, city):
    make_stall(name="Lapak Menunggu", status="pending")
    stalls = _all(client, "/api/v1/stalls", bearer("read:stalls"))
    assert [s["name"] for s in stalls] == ["Warung API"]
    assert stalls[0]["kelurahan_code"] == "35.77.01.1001"
    assert "phone" not in stalls[0] and "owner_nik" not in stalls[0]
