"""Headers behind an HTTPS proxy, and rate limits on the QR links."""

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


def test_nul_bytes_in_input_are_a_clear_400(client):
    assert client.get("/q/abc%00def").status_code == 400
    response = client.post("/auth/masuk", data={"identifier": "a\x00b", "password": "x"})
    assert response.status_code == 400
    assert "Permintaan tidak valid" in response.get_data(as_text=True)
