"""Every route x every role against the expected answer, generated from the app's URL map.

A route that has no entry in EXPECTED fails the test, so a new page cannot ship without
someone deciding who may open it. Answers are classed as: "ok" (the view ran: not a
redirect to sign-in, not 403, not a server error), "login" (redirect to sign-in), "403",
"404" (an object of someone else: ids do not leak), "401" (the API without a bearer token).
"""

import pytest

from promkm_qr.api import webhooks
from promkm_qr.api.clients import create_client
from promkm_qr.extensions import db
from promkm_qr.jobs import create_job, finish_job
from promkm_qr.models import Document, Evidence, Kecamatan, PurchaseReport, WebhookDelivery
from promkm_qr.models.base import utcnow
from promkm_qr.monitoring import record_heartbeat
from promkm_qr.stalls.links import link_token
from promkm_qr.storage import get_storage
from tests.conftest import csrf_token, login
from tests.factories import make_asn, make_merchant, make_staff, make_stall

ROLES = [
    "anon",
    "asn",
    "asn2",
    "merchant",
    "merchant2",
    "admin",
    "operator",
    "reviewer",
    "viewer",
    "scoped",
]
STAFF = ["admin", "operator", "reviewer", "viewer", "scoped"]


def everyone() -> dict:
    """Public pages."""
    return dict.fromkeys(ROLES, "ok")


def signed_in() -> dict:
    """Any account."""
    return {**dict.fromkeys(ROLES, "ok"), "anon": "login"}


def only(role: str, *, owned: bool = False) -> dict:
    """One role; with owned=True the other account of that role gets 404."""
    answers = {**dict.fromkeys(ROLES, "403"), "anon": "login", role: "ok"}
    answers[role + "2"] = "404" if owned else "ok"
    return answers


def staff(*roles: str, scoped: str | None = None) -> dict:
    """Dinas staff of the given roles (admin always); `scoped` is a kecamatan operator."""
    answers = {**dict.fromkeys(ROLES, "403"), "anon": "login", "admin": "ok"}
    for role in roles:
        answers[role] = "ok"
    answers["scoped"] = scoped or ("ok" if "operator" in roles else "403")
    answers["outscope"] = answers["scoped"]
    return answers


def token_only() -> dict:
    """The API: a session is no credential there, so every role gets a 401 problem document
    (tests/api/ check the bearer tokens and their scopes)."""
    return dict.fromkeys(ROLES, "401")


ALL_STAFF = ("operator", "reviewer", "viewer")

EXPECTED = {
    "static": everyone(),
    "public.index": signed_in(),  # sends everyone else to sign in
    "public.health": everyone(),
    "public.favicon": everyone(),
    "public.manifest": everyone(),
    "public.service_worker": everyone(),
    # Loopback (the test client) may read both; other addresses: tests/test_monitoring.py.
    "ops.metrics": everyone(),
    "ops.ready": everyone(),
    "public.stall_link": everyone(),
    "public.stats": everyone(),
    "public.privacy": everyone(),
    "auth.login": everyone(),
    "auth.activate": everyone(),
    "auth.activate_umkm": everyone(),
    "auth.logout": dict.fromkeys(ROLES, "login"),  # signs out, then shows sign-in
    "auth.change_password": signed_in(),
    "auth.sessions_page": signed_in(),
    "auth.account": signed_in(),  # always the caller's own account: no id in the URL
    "auth.end_other_sessions": signed_in(),  # ends only the caller's other sessions
    # Only a session half-way through staff sign-in (password given) reaches these.
    "auth.second_step": dict.fromkeys(ROLES, "404"),
    "auth.enroll": dict.fromkeys(ROLES, "404"),
    # Each person's own reminders and choices: any signed-in account.
    "notifications.index": signed_in(),
    "notifications.mark_read": signed_in(),
    "notifications.preferences": signed_in(),
    "asn.home": only("asn"),
    "asn.report": only("asn"),
    "asn.offline_form": only("asn"),
    "asn.send_token": only("asn"),
    "asn.scan": only("asn"),
    "asn.history": only("asn"),
    "asn.vendor": only("asn"),
    "asn.stall_photo": only("asn"),
    "asn.receipt": only("asn", owned=True),
    "asn.edit": only("asn", owned=True),
    "asn.withdraw": only("asn", owned=True),
    # The reporting ASN, the stall's merchant and staff whose scope covers the stall.
    "asn.evidence_photo": {
        **dict.fromkeys(ROLES, "ok"),
        "anon": "login",
        "asn2": "404",
        "merchant2": "404",
        "outscope": "404",
    },
    "asn.evidence_thumb": {
        **dict.fromkeys(ROLES, "ok"),
        "anon": "login",
        "asn2": "404",
        "merchant2": "404",
        "outscope": "404",
    },
    "merchant.home": only("merchant"),
    "merchant.confirm": only("merchant"),
    "merchant.dispute": only("merchant", owned=True),
    "merchant.photo": only("merchant", owned=True),
    "merchant.reports_csv": only("merchant"),
    "dinas.home": staff(*ALL_STAFF),
    "dinas.dashboard": staff(*ALL_STAFF),
    "dinas.delivery_log": staff("operator", "reviewer"),
    # Only the one who started a job (or an admin) may watch it.
    "dinas.job": {
        **staff(*ALL_STAFF),
        "reviewer": "404",
        "viewer": "404",
        "scoped": "404",
        "outscope": "404",
    },
    "dinas.job_json": {
        **staff(*ALL_STAFF),
        "reviewer": "404",
        "viewer": "404",
        "scoped": "404",
        "outscope": "404",
    },
    "dinas.job_result": {
        **staff(*ALL_STAFF),
        "reviewer": "404",
        "viewer": "404",
        "scoped": "404",
        "outscope": "404",
    },
    "dinas.export": staff(*ALL_STAFF),
    "dinas.roster": staff("operator", scoped="403"),
    "dinas.opd_save": staff("operator", scoped="403"),
    # Resetting access shows a new code: the roster's staff for ASN, the stall's for its owner.
    "dinas.asn_access": staff("operator", scoped="403"),
    "dinas.stall_owner_access": {**staff("operator"), "outscope": "404"},
    "dinas.review": staff("reviewer"),
    "dinas.review_decide": staff("reviewer"),
    "dinas.stalls": staff(*ALL_STAFF),
    "dinas.stall_detail": {**staff(*ALL_STAFF), "outscope": "404"},
    "dinas.stall_new": staff("operator"),
    "dinas.stall_edit": {**staff("operator"), "outscope": "404"},
    "dinas.stall_status": {**staff("operator"), "outscope": "404"},
    "dinas.stall_poster": {**staff("operator"), "outscope": "404"},
    "dinas.posters": staff("operator"),
    # Only a failed job can be rerun: the world's job is done, so its owner gets 404 too.
    "dinas.posters_rerun": {
        **staff("operator"),
        "admin": "404",
        "operator": "404",
        "scoped": "404",
        "outscope": "404",
    },
    "dinas.imports": staff("operator"),
    "dinas.categories": staff("operator"),
    "merchant.register_stall": only("merchant"),
    "dinas.documents": staff(*ALL_STAFF),
    # Area-scoped staff see only their area's verification reports, not personal receipts.
    "dinas.documents_download": {**staff(*ALL_STAFF), "scoped": "404", "outscope": "404"},
    "dinas.documents_start": staff("operator"),
    "dinas.documents_regenerate": {**staff("operator"), "scoped": "404", "outscope": "404"},
    # Only a document batch can be resumed: the world's job prints posters.
    "dinas.documents_resume": {
        **staff("operator"),
        "admin": "404",
        "operator": "404",
        "scoped": "404",
        "outscope": "404",
    },
    # Own receipts (ASN) and recaps (merchants); staff have their own document pages.
    "documents.mine": {
        **dict.fromkeys(ROLES, "404"),
        "anon": "login",
        "asn": "ok",
        "asn2": "ok",
        "merchant": "ok",
        "merchant2": "ok",
    },
    "documents.own_download": {**dict.fromkeys(ROLES, "404"), "anon": "login", "asn": "ok"},
    "documents.verify": everyone(),
    # "Unduh data saya": a person's own archive; the download names no id, so another
    # person (or staff) reaches only their own, none here.
    "personal_data.mine": {
        **dict.fromkeys(ROLES, "404"),
        "anon": "login",
        "asn": "ok",
        "asn2": "ok",
        "merchant": "ok",
        "merchant2": "ok",
    },
    "personal_data.download": {**dict.fromkeys(ROLES, "404"), "anon": "login", "asn": "ok"},
    # An archive on a person's written request: admins only (personal_data.services).
    "dinas.asn_data_request": staff(),
    "dinas.stall_owner_data_request": staff(),
    "dinas.settings": staff(),
    "dinas.staff": staff(),
    "dinas.staff_edit": staff(),
    "dinas.staff_second_factor_reset": staff(),
    "dinas.api_clients": staff(),
    "dinas.api_client_revoke": staff(),
    "dinas.tpp": staff("operator", scoped="403"),
    "dinas.webhook_subscriptions": staff(),
    "dinas.webhook_log": staff(),
    "dinas.webhook_send_again": staff(),
    "dinas.webhook_resume": staff(),
    # The API's document and reference page are public: integrators read them first.
    "api-docs.openapi_json": everyone(),
    "api_reference.reference": everyone(),
    "api_compliance.AsnCompliance": token_only(),
    "api_compliance.OpdCompliance": token_only(),
    "api_compliance.TppFile": token_only(),
    "api_documents.Documents": token_only(),
    "api_documents.DocumentFile": token_only(),
    "api_reports.Reports": token_only(),
    "api_stalls.Stalls": token_only(),
    "api_roster.Roster": token_only(),
}


@pytest.fixture
def world(app):
    """One object of each kind, owned by the first account of each role."""
    asn, merchant = make_asn(nip="198609262015051001"), make_merchant(phone="081200000001")
    make_asn(nip="198609262015052002")
    make_merchant(phone="081200000002")
    users = {
        role: make_staff(role, username=role)
        for role in ("admin", "operator", "reviewer", "viewer")
    }
    kecamatan = db.session.query(Kecamatan).filter_by(code="35.77.01").one()
    make_staff("operator", username="scoped", scope_kecamatan_id=kecamatan.id)
    taman = db.session.query(Kecamatan).filter_by(code="35.77.03").one()
    make_staff("operator", username="outscope", scope_kecamatan_id=taman.id)
    record_heartbeat()  # /readyz answers 200 only while beat is alive
    stall = make_stall(owner=merchant, photo_key="matrix/photo.jpg")
    report = PurchaseReport(
        reference="PRMATRIX",
        idempotency_key="matrix",
        asn_id=asn.id,
        stall_id=stall.id,
        amount=25_000,
        goods_category="makanan",
        purchased_at=utcnow(),
    )
    storage = get_storage()
    digest = storage.put("matrix/photo.jpg", b"\xff\xd8 not decoded here")
    report.evidence = Evidence(
        storage_key="matrix/photo.jpg",
        thumb_key="matrix/photo.jpg",
        sha256=digest,
        original_sha256=digest,
        phash="0" * 16,
        width=1,
        height=1,
    )
    document = Document(
        public_id="MATRIXDOC",
        kind="asn_receipt",
        subject=str(asn.id),
        period="2026-10",
        state="done",
        storage_key="matrix/receipt.pdf",
        checksum=digest,
    )
    db.session.add(document)
    job = create_job("posters", created_by_id=users["operator"].id)
    job.result_key = "matrix/result.pdf"
    storage.put(job.result_key, b"%PDF-1.7")
    storage.put(document.storage_key, b"%PDF-1.7")
    finish_job(job)
    export = create_job("data_export", {"person_id": asn.id}, created_by_id=asn.id)
    export.result_key = "matrix/data.zip"
    storage.put(export.result_key, b"PK\x05\x06" + bytes(18))
    finish_job(export)
    db.session.add(report)
    db.session.commit()
    return {
        "report_id": report.id,
        "job_id": job.id,
        # Not a signed-in row: resetting its second factor ends its sessions.
        "user_id": make_staff("viewer", username="target").id,
        "token": link_token(stall.code, stall.poster_version),
        "kind": "laporan",
        "fmt": "csv",
        "filename": "app.css",
        "stall_id": stall.id,
        "asn_id": asn.id,
        "name": "jsQR.js",
        "doc_id": document.id,
        "public_id": document.public_id,
        "client_id": create_client("Matriks", ["read:stalls"])[0],
        **_webhook(),
        "document_id": document.public_id,
    }


def _webhook() -> dict:
    """A subscription with one delivery."""
    subscription_id, _secret = webhooks.subscribe(
        "http://127.0.0.1:9/hook", ["report.verified"], None
    )
    delivery = WebhookDelivery(
        subscription_id=subscription_id,
        message_id="msg_matrix",
        event="report.verified",
        payload={},
    )
    db.session.add(delivery)
    db.session.commit()
    return {"subscription_id": subscription_id, "delivery_id": delivery.id}


LOGINS = {
    "asn": ("asn", "198609262015051001"),
    "asn2": ("asn", "198609262015052002"),
    "merchant": ("merchant", "081200000001"),
    "merchant2": ("merchant", "081200000002"),
    **{name: ("dinas", name) for name in STAFF},
}


def _classify(response) -> str:
    if response.status_code in (301, 302, 303) and "/auth/masuk" in response.headers.get(
        "Location", ""
    ):
        return "login"
    if response.status_code in (403, 404):
        return str(response.status_code)
    if response.status_code == 401:
        # Only the API answers 401, and always with a problem document, never a page.
        assert response.mimetype == "application/problem+json", response.mimetype
        return "401"
    assert response.status_code < 500, response.status_code
    return "ok"


def test_every_route_for_every_role(app, world):
    # Signing out last, or it would end the sessions the other rows need.
    rules = sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint == "auth.logout")
    missing = sorted({r.endpoint for r in rules} - set(EXPECTED))
    assert not missing, f"routes without an access entry: {missing}"
    clients = {"anon": app.test_client()}
    for role, (kind, identifier) in LOGINS.items():
        clients[role] = app.test_client()
        assert login(clients[role], kind, identifier).status_code == 302, role
    tokens = {
        role: csrf_token(client, "/auth/masuk" if role == "anon" else "/auth/sandi")
        for role, client in clients.items()
    }
    wrong = []
    for rule in rules:
        url = rule.build({arg: world[arg] for arg in rule.arguments}, append_unknown=False)[1]
        method = next(m for m in ("GET", "POST", "PUT") if m in rule.methods)
        for role in ROLES:
            client = clients[role]
            if method == "GET":
                response = client.get(url)
            else:
                response = client.open(url, method=method, data={"csrf_token": tokens[role]})
            got = _classify(response)
            if got != EXPECTED[rule.endpoint][role]:
                wrong.append(
                    f"{method} {url} as {role}: {got}, expected {EXPECTED[rule.endpoint][role]}"
                )
    assert not wrong, "\n".join(wrong)
