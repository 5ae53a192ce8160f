"""Two confirmations of the same report at the same moment leave one transition."""

import threading

import pytest
from sqlalchemy import func, select

from promkm_qr.extensions import db
from promkm_qr.models import PurchaseReport, ReportTransition
from promkm_qr.reports import review
from tests.conftest import BACKEND, csrf_token, login
from tests.factories import make_asn, make_merchant, make_report, make_stall

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(BACKEND != "postgres", reason="the race needs PostgreSQL row locks"),
]


def test_parallel_confirmations_leave_exactly_one_transition(app, postgres_url):
    merchant = make_merchant()
    report_id = make_report(make_asn(), make_stall(owner=merchant)).id
    clients = [app.test_client(), app.test_client()]
    tokens = []
    for client in clients:
        login(client, "merchant", merchant.phone)
        tokens.append(csrf_token(client, "/umkm/"))
    db.session.commit()
    barrier = threading.Barrier(2)
    statuses = []

    def confirm(client, token):
        barrier.wait()
        response = client.post(
            "/umkm/laporan/konfirmasi", data={"csrf_token": token, "report_id": report_id}
        )
        statuses.append(response.status_code)

    threads = [
        threading.Thread(target=confirm, args=pair) for pair in zip(clients, tokens, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert statuses == [302, 302]
    db.session.rollback()
    assert db.session.get(PurchaseReport, report_id).state == "confirmed"
    confirmed = db.session.scalar(
        select(func.count(ReportTransition.id)).where(
            ReportTransition.report_id == report_id, ReportTransition.to_state == "confirmed"
        )
    )
    assert confirmed == 1


def test_parallel_confirm_services_one_wins_one_is_skipped(app, postgres_url):
    merchant = make_merchant()
    merchant_id = merchant.id
    report_id = make_report(make_asn(), make_stall(owner=merchant)).id
    barrier = threading.Barrier(2)
    results = []

    def confirm():
        with app.app_context():
            barrier.wait()
            results.append(review.confirm([report_id], merchant_id))
            db.session.commit()

    threads = [threading.Thread(target=confirm) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(len(r["done"]) for r in results) == [0, 1]
    assert sorted(len(r["skipped"]) for r in results) == [0, 1]
    db.session.rollback()
    steps = db.session.scalars(
        select(ReportTransition.to_state)
        .where(ReportTransition.report_id == report_id)
        .order_by(ReportTransition.id)
    ).all()
    assert steps == ["submitted", "confirmed"]
