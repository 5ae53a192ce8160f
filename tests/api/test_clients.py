"""API clients: the token's whole life, scopes, the OPD limit, the CLI and the admin page."""

from datetime import timedelta

from sqlalchemy import select, text

from promkm_qr.api.clients import create_client, token_digest
from promkm_qr.extensions import db
from promkm_qr.models import ApiClient, AuditEntry
from promkm_qr.models.base import utcnow
from tests.api.conftest import MONTH, bearer
from tests.conftest import csrf_token, login
from tests.factories import make_staff


def _stalls(client, token: str):
    return client.get("/api/v1/stalls", headers={"Authorization": f"Bearer {token}"})


def test_token_lifecycle_create_use_expire_revoke(app, client):
    client_id, token = create_client("e-TPP", ["read:stalls"])
    # Hashed at rest: the token is in no column of any row, its SHA-256 is.
    row = db.session.get(ApiClient, client_id)
    assert row.token_hash == token_digest(token) and row.last_used_at is None
    dump = " ".join(str(v) for v in db.session.execute(text("SELECT * FROM api_clients")).one())
    assert token not in dump
    assert _stalls(client, token).status_code == 200
    db.session.expire_all()
    assert db.session.get(ApiClient, client_id).last_used_at is not None
    assert _stalls(client, token + "x").status_code == 401
    row = db.session.get(ApiClient, client_id)
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    expired = _stalls(client, token)
    assert expired.status_code == 401 and expired.mimetype == "application/problem+json"
    row.expires_at = utcnow() + timedelta(days=1)
    db.session.commit()
    assert _stalls(client, token).status_code == 200
    staff = make_staff("admin", username="pemberi")
    login(client, "dinas", "pemberi")
    page = client.get("/dinas/klien-api")
    assert "e-TPP" in page.get_data(as_text=True) and token not in page.get_data(as_text=True)
    form = {"csrf_token": csrf_token(client, "/dinas/klien-api")}
    revoke = client.post(f"/dinas/klien-api/{client_id}/cabut", data=form)
    assert revoke.status_code == 302
    assert _stalls(client, token).status_code == 401
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.actor_id == staff.id))
    assert "api_client.revoked" in list(actions)


def test_admin_page_shows_a_new_token_once(app, client):
    make_staff("admin", username="pembuat")
    login(client, "dinas", "pembuat")
    page = client.post(
        "/dinas/klien-api",
        data={
            "csrf_token": csrf_token(client, "/dinas/klien-api"),
            "name": "Portal data",
            "scopes": ["read:stalls", "read:reports"],
            "opd_id": "0",
        },
    )
    assert page.status_code == 200
    token = next(
        word.split("<")[0]
        for word in page.get_data(as_text=True).split("<code>")
        if word.startswith("pqr_") and "…" not in word.split("<")[0]
    )
    assert _stalls(client, token).status_code == 200
    again = client.get("/dinas/klien-api").get_data(as_text=True)
    assert "Portal data" in again and token not in again


def test_cli_prints_the_token_alone_on_its_last_line(app, client):
    result = app.test_cli_runner().invoke(
        args=["api-client", "create", "BKPSDM", "--scope", "read:compliance",
              "--scope", "read:reports"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("pqr_") and " " not in token
    row = db.session.scalar(select(ApiClient).where(ApiClient.name == "BKPSDM"))
    assert row.scopes == ["read:compliance", "read:reports"]
    assert row.token_hash == token_digest(token)
    bad = app.test_cli_runner().invoke(args=["api-client", "create", "X", "--scope", "root"])
    assert bad.exit_code != 0


def test_wrong_scope_gets_a_403_problem(client, city):
    for url in (f"/api/v1/compliance/asn?month={MONTH}", f"/api/v1/compliance/opd?month={MONTH}",
                "/api/v1/reports"):  # fmt: skip
        answer = client.get(url, headers=bearer("read:stalls"))
        assert answer.status_code == 403, url
        assert answer.mimetype == "application/problem+json"
        assert "scope" in answer.get_json()["detail"]
    assert client.get("/api/v1/stalls", headers=bearer("read:reports")).status_code == 403


def test_a_client_of_one_opd_sees_only_that_opd(client, city):
    own, other = city["opds"]
    headers = bearer("read:compliance", "read:reports", opd_id=own.id)
    rows = client.get(f"/api/v1/compliance/asn?month={MONTH}", headers=headers).get_json()
    assert {r["opd_id"] for r in rows["items"]} == {own.id} and len(rows["items"]) == 2
    opds = client.get(f"/api/v1/compliance/opd?month={MONTH}", headers=headers).get_json()
    assert [o["opd_id"] for o in opds["items"]] == [own.id]
    reports = client.get("/api/v1/reports", headers=headers).get_json()["items"]
    assert reports and {r["opd_id"] for r in reports} == {own.id}
    refused = client.get(f"/api/v1/compliance/asn?month={MONTH}&opd_id={other.id}", headers=headers)
    assert refused.status_code == 403 and refused.mimetype == "application/problem+json"
