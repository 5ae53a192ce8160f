"""Signed QR links: forged, tampered, revoked and suspended links are refused and logged."""

import pytest
from sqlalchemy import select

from promkm_qr.extensions import db
from promkm_qr.models import RefusedScan
from promkm_qr.stalls import links
from tests.factories import make_stall


def _token(app, code: str, version: int) -> str:
    with app.test_request_context():
        return links.link_token(code, version)


def _refused(client, token: str, status: int, reason: str) -> None:
    response = client.get(f"/q/{token}")
    assert response.status_code == status
    assert "Kode QR tidak berlaku" in response.get_data(as_text=True)
    db.session.rollback()
    logged = db.session.scalars(select(RefusedScan).order_by(RefusedScan.id.desc())).first()
    assert logged.reason == reason
    assert logged.token == token


def test_valid_link_resolves_to_the_active_stall(app):
    stall = make_stall()
    with app.test_request_context():
        assert links.resolve(links.link_token(stall.code, 1)).id == stall.id


def test_link_signed_with_an_older_key_still_resolves(app):
    stall = make_stall()
    with app.test_request_context():
        old_key = links.signing_keys()[1]
        token = f"{stall.code}.1.{links._signature(old_key, stall.code, 1)}"
        assert links.resolve(token).id == stall.id


def test_forged_signature_is_refused(app, client):
    stall = make_stall()
    token = _token(app, stall.code, 1)
    forged = token[:-12] + ("A" if token[-12] != "A" else "B") + token[-11:]
    _refused(client, forged, 404, "forged")


def test_tampered_code_is_refused(app, client):
    stall = make_stall()
    other = make_stall(name="Lapak Lain")
    token = _token(app, stall.code, 1)
    _refused(client, token.replace(stall.code, other.code), 404, "forged")


def test_revoked_version_is_refused(app, client):
    stall = make_stall()
    token = _token(app, stall.code, 1)
    stall.poster_version = 2
    db.session.commit()
    _refused(client, token, 410, "revoked")
    response = client.get(f"/q/{token}")
    assert "sudah diganti" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("status", "reason", "http"), [("suspended", "suspended", 410), ("pending", "pending", 404)]
)
def test_inactive_stall_is_refused(app, client, status, reason, http):
    stall = make_stall(status=status)
    _refused(client, _token(app, stall.code, 1), http, reason)


def test_garbage_is_refused_without_error(client):
    _refused(client, "not-a-token", 404, "malformed")


def test_link_holds_no_secret_and_fits_a_small_qr(app):
    from promkm_qr.core.qr import fits_poster

    stall = make_stall()
    with app.test_request_context():
        url = links.poster_url(stall.code, 1)
        assert url.startswith("https://promkm.example.go.id/q/")
        assert "test-key" not in url and "test-secret" not in url
        assert fits_poster(url)
