"""Merchant confirm/dispute and dinas decisions: access, states, history, audit."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text

from promkm_qr.core.dates import WIB
from promkm_qr.extensions import db
from promkm_qr.merchant.sales import stall_totals
from promkm_qr.models import AuditEntry, PurchaseReport, ReportFlag, ReportTransition
from promkm_qr.models.base import utcnow
from promkm_qr.reports import review
from promkm_qr.reports.workflow import StateConflict, transition
from tests.conftest import csrf_token, login
from tests.factories import (
    kelurahan,
    make_asn,
    make_merchant,
    make_report,
    make_staff,
    make_stall,
)


def state_of(report_id: int) -> str:
    """The report's current state, read fresh."""
    db.session.rollback()
    return db.session.get(PurchaseReport, report_id).state


@pytest.fixture
def scene(app):
    merchant = make_merchant(phone="081211110001")
    stall = make_stall(owner=merchant)
    asn = make_asn()
    return merchant, stall, asn


def test_merchant_sees_and_confirms_own_reports(client, scene):
    merchant, stall, asn = scene
    a, b = make_report(asn, stall, 15_000), make_report(asn, stall, 27_500)
    login(client, "merchant", merchant.phone)
    page = client.get("/umkm/").get_data(as_text=True)
    assert "Rp27.500" in page and asn.name in page and asn.nip not in page
    token = csrf_token(client, "/umkm/")
    response = client.post(
        "/umkm/laporan/konfirmasi", data={"csrf_token": token, "report_id": [a.id, b.id]}
    )
    assert response.status_code == 302
    assert state_of(a.id) == state_of(b.id) == "confirmed"
    csv_text = client.get("/umkm/laporan.csv").get_data(as_text=True)
    assert a.reference in csv_text and "confirmed" in csv_text


def test_dispute_needs_a_reason_and_records_it(client, scene):
    merchant, stall, asn = scene
    report = make_report(asn, stall)
    login(client, "merchant", merchant.phone)
    token = csrf_token(client, "/umkm/")
    client.post(f"/umkm/laporan/{report.id}/sanggah", data={"csrf_token": token})
    assert state_of(report.id) == "submitted"
    client.post(
        f"/umkm/laporan/{report.id}/sanggah",
        data={"csrf_token": token, "reason": "no_purchase", "note": "Tidak kenal"},
    )
    assert state_of(report.id) == "disputed"
    step = db.session.scalars(
        select(ReportTransition).where(ReportTransition.to_state == "disputed")
    ).one()
    assert step.actor_id == merchant.id and step.from_state == "submitted"
    assert step.reason == "Tidak ada pembelian: Tidak kenal"


def test_merchant_cannot_see_or_act_on_another_merchants_report(client, scene):
    merchant, _stall, asn = scene
    other_stall = make_stall(owner=make_merchant(), name="Toko Lain Sekali")
    theirs = make_report(asn, other_stall, 44_000)
    login(client, "merchant", merchant.phone)
    page = client.get("/umkm/").get_data(as_text=True)
    assert "Toko Lain Sekali" not in page and theirs.reference not in page
    token = csrf_token(client, "/umkm/")
    assert (
        client.post(
            "/umkm/laporan/konfirmasi", data={"csrf_token": token, "report_id": theirs.id}
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/umkm/laporan/{theirs.id}/sanggah",
            data={"csrf_token": token, "reason": "amount"},
        ).status_code
        == 404
    )
    assert client.get(f"/umkm/laporan/{theirs.id}/foto").status_code == 404
    assert state_of(theirs.id) == "submitted"


def test_asn_cannot_confirm_their_own_report(client, scene):
    _merchant, stall, asn = scene
    report = make_report(asn, stall)
    login(client, "asn", asn.nip)
    assert client.post("/umkm/laporan/konfirmasi", data={"report_id": report.id}).status_code in (
        400,
        403,
    )
    # Even an account that owns the stall cannot confirm a report it made itself.
    own_stall = make_stall(owner=asn)
    own = make_report(asn, own_stall)
    with pytest.raises(review.NotAllowed):
        review.confirm([own.id], asn.id)
    assert state_of(report.id) == state_of(own.id) == "submitted"


@pytest.mark.parametrize("state", ["confirmed", "disputed", "verified"])
def test_asn_cannot_edit_or_withdraw_after_the_merchant_answered(scene, state):
    _merchant, stall, asn = scene
    report = make_report(asn, stall, state=state)
    with pytest.raises(StateConflict):
        transition(report.id, "withdrawn", actor_id=asn.id)
    with pytest.raises(StateConflict):
        transition(
            report.id,
            "submitted",
            actor_id=asn.id,
            changes={"amount": [25_000, 99_000]},
            allowed_from=("submitted",),
        )
    assert state_of(report.id) == state


def test_dinas_decides_in_bulk_with_reason_and_scope(client, scene):
    _merchant, stall, asn = scene
    flagged = make_report(asn, stall, flagged=True)
    disputed = make_report(asn, stall, state="disputed")
    elsewhere = make_report(asn, make_stall(kel_code="35.77.03.1001"), flagged=True)
    reviewer = make_staff("reviewer", scope_kelurahan_id=kelurahan().id)
    login(client, "dinas", reviewer.username)
    page = client.get("/dinas/tinjauan").get_data(as_text=True)
    assert flagged.reference in page and disputed.reference in page
    assert elsewhere.reference not in page
    token = csrf_token(client, "/dinas/tinjauan")
    decide = {"csrf_token": token, "decision": "rejected", "reason": "Foto dipakai ulang"}
    assert (
        client.post(
            "/dinas/tinjauan/putuskan", data={**decide, "report_id": [flagged.id, elsewhere.id]}
        ).status_code
        == 404
    )
    client.post("/dinas/tinjauan/putuskan", data={**decide, "report_id": [flagged.id, disputed.id]})
    assert state_of(flagged.id) == state_of(disputed.id) == "rejected"
    assert state_of(elsewhere.id) == "submitted"
    steps = db.session.scalars(
        select(ReportTransition).where(ReportTransition.to_state == "rejected")
    ).all()
    assert {(s.actor_id, s.reason) for s in steps} == {(reviewer.id, "Foto dipakai ulang")}


def test_viewer_staff_cannot_decide(client, scene):
    viewer = make_staff("viewer")
    login(client, "dinas", viewer.username)
    assert client.get("/dinas/tinjauan").status_code == 403


def test_unanswered_reports_go_to_the_review_queue(scene):
    _merchant, stall, asn = scene
    old = make_report(asn, stall, created_at=utcnow() - timedelta(days=8))
    fresh = make_report(asn, stall, created_at=utcnow() - timedelta(days=2))
    answered = make_report(asn, stall, state="confirmed", created_at=utcnow() - timedelta(days=9))
    assert review.sweep_unanswered() == 1
    assert review.sweep_unanswered() == 0
    db.session.commit()
    flags = db.session.scalars(select(ReportFlag.report_id).where(ReportFlag.rule == "unanswered"))
    assert list(flags) == [old.id]
    assert [db.session.get(PurchaseReport, r.id).flagged for r in (old, fresh, answered)] == [
        True,
        False,
        False,
    ]


def test_audit_verify_names_the_tampered_entry(app, scene):
    merchant, stall, asn = scene
    reports = [make_report(asn, stall) for _ in range(3)]
    review.confirm([r.id for r in reports], merchant.id)
    db.session.commit()
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert "utuh" in ok.output
    middle = db.session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)).all()[1]
    # Someone edits the stored data of one entry behind the application's back.
    db.session.execute(
        text("UPDATE audit_entries SET action = 'report.verified' WHERE id = :id"), {"id": middle}
    )
    db.session.commit()
    broken = runner.invoke(args=["audit", "verify"])
    assert broken.exit_code == 1
    assert f"#{middle}" in broken.output


def test_review_queue_filters_by_flag_state_and_opd(client, scene):
    _merchant, stall, asn = scene
    photo = make_report(asn, stall, flagged=True)
    far = make_report(make_asn(), stall, flagged=True)
    db.session.add_all(
        [
            ReportFlag(report_id=photo.id, rule="photo", detail="Foto dipakai ulang"),
            ReportFlag(report_id=far.id, rule="distance", detail="Jauh"),
        ]
    )
    confirmed = make_report(asn, stall, state="confirmed")
    staff = make_staff("reviewer")
    login(client, "dinas", staff.username)

    def listed(query: str) -> set[str]:
        page = client.get(f"/dinas/tinjauan?{query}").get_data(as_text=True)
        return {r.reference for r in (photo, far, confirmed) if r.reference in page}

    assert listed("") == {photo.reference, far.reference}
    assert listed("flag=photo") == {photo.reference}
    assert listed("status=confirmed") == {confirmed.reference}
    assert listed(f"opd={far.opd_id}") == {far.reference}
    assert listed("bulan=2020-01") == set()


def test_stall_totals_count_only_the_counted_states(scene):
    _merchant, stall, asn = scene
    make_report(asn, stall, 10_000, datetime(2026, 3, 15, 3, 0))
    make_report(asn, stall, 5_000, datetime(2026, 3, 15, 4, 0), state="disputed")
    make_report(asn, stall, 20_000, datetime(2026, 3, 12, 3, 0), state="confirmed")
    make_report(asn, stall, 50_000, datetime(2026, 2, 20, 3, 0), state="verified")
    totals = stall_totals([stall.id], 2026, 3, now=datetime(2026, 3, 15, 12, 0, tzinfo=WIB))
    assert totals[stall.id] == {"today": 10_000, "month": 30_000}


def test_merchant_page_and_csv_of_an_earlier_month(client, scene):
    merchant, stall, asn = scene
    january = make_report(asn, stall, 12_000, datetime(2026, 1, 31, 18, 0))  # 1 Feb WIB
    login(client, "merchant", merchant.phone)
    page = client.get("/umkm/?bulan=2026-02").get_data(as_text=True)
    assert "Februari 2026" in page and "Rp12.000" in page and "bulan=2026-01" in page
    assert january.reference in client.get("/umkm/laporan.csv?bulan=2026-02").get_data(as_text=True)
    assert january.reference not in client.get("/umkm/laporan.csv?bulan=2026-01").get_data(
        as_text=True
    )
