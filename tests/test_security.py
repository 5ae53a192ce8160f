"""Headers behind an HTTPS proxy, and rate limits on the QR links."""

from promkm_qr.stalls.links import link_token
from tests.conftest import login
from tests.factories import make_asn, make_stall
from tests.faults.conftest import other_app


def test_hsts_and_https_scheme_behind_one_proxy(app, tmp_path):
    config = {"PROXY_HOPS": 1, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite'}"}
    with other_app(config) as proxied:
        response = proxied.test_client().get(
            "/auth/masuk", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "10.1.2.3"}
        )
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    plain = app.test_client().get("/auth/masuk")
    assert "Strict-Transport-Security" not in plain.headers


def test_qr_link_resolution_is_rate_limited(app, client):
    app.config["QR_LINK_LIMIT_PER_CLIENT"] = "5/minute"
    try:
        statuses = [client.get("/q/3577011001-00001.1.AAAAAAAAAAAA").status_code for _ in range(7)]
    finally:
        app.config["QR_LINK_LIMIT_PER_CLIENT"] = "120/minute"
    assert statuses[:5] == [404] * 5
    assert statuses[-1] == 429


def test_a_signed_in_asn_scanning_is_not_limited_by_address(app, client):
    """Accountable (a refused scan names the account), and an office may share one address."""
    stall, asn = make_stall(), make_asn()
    link = f"/q/{link_token(stall.code, stall.poster_version)}"
    assert login(client, "asn", asn.nip).status_code == 302
    anonymous = app.test_client()
    app.config["QR_LINK_LIMIT_PER_CLIENT"] = "3/minute"
    try:
        scans = [client.get(link).status_code for _ in range(5)]
        strangers = [anonymous.get(link).status_code for _ in range(5)]
    finally:
        app.config["QR_LINK_LIMIT_PER_CLIENT"] = "120/minute"
    assert scans == [200] * 5
    assert strangers == [302] * 3 + [429] * 2


def test_nul_bytes_in_input_are_a_clear_400(client):
    assert client.get("/q/abc%00def").status_code == 400
    response = client.post("/auth/masuk", data={"identifier": "a\x00b", "password": "x"})
    assert response.status_code == 400
    assert "Permintaan tidak valid" in response.get_data(as_text=True)
