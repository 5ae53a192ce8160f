"""Signed stall links: round trip, rotation, and arbitrary input never crashes the resolver."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promkm_qr.core.qr import fits_poster
from promkm_qr.stalls import links
from tests.factories import make_stall


def test_link_round_trip_and_short_enough_for_a_small_qr(app):
    stall = make_stall()
    url = links.poster_url(stall.code, stall.poster_version)
    assert url.startswith("https://promkm.example.go.id/q/")
    assert fits_poster(url)
    assert links.resolve(url.rsplit("/", 1)[1]).id == stall.id


def test_old_key_still_verifies_after_rotation(app):
    stall = make_stall()
    app.config["QR_SIGNING_KEYS"] = ["old-key"]
    token = links.link_token(stall.code, stall.poster_version)
    app.config["QR_SIGNING_KEYS"] = ["new-key", "old-key"]
    try:
        assert links.resolve(token).id == stall.id
        assert links.link_token(stall.code, stall.poster_version) != token
    finally:
        app.config["QR_SIGNING_KEYS"] = ["test-key-2", "test-key-1"]


@pytest.mark.parametrize("reason", ["forged", "tampered", "revoked", "suspended"])
def test_bad_links_are_refused_and_logged(app, client, reason):
    from promkm_qr.extensions import db
    from promkm_qr.models import RefusedScan

    stall = make_stall()
    token = links.link_token(stall.code, stall.poster_version)
    if reason == "forged":
        token = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    elif reason == "tampered":
        other = make_stall()
        token = other.code + token[len(stall.code) :]
    elif reason == "revoked":
        stall.poster_version += 1
        db.session.commit()
    else:
        stall.status = "suspended"
        db.session.commit()
    response = client.get(f"/q/{token}")
    assert response.status_code in (404, 410)
    assert "Kode QR tidak berlaku" in response.get_data(as_text=True)
    assert db.session.query(RefusedScan).count() == 1


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(token=st.text(max_size=80))
def test_arbitrary_tokens_are_refused_never_crash(app, token):
    with pytest.raises(links.LinkRefused):
        links.resolve(token)
