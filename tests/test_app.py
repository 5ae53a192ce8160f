"""Application-wide behaviour: pages, languages, error pages, headers, demo data, CLI."""

from sqlalchemy import func, select

from promkm_qr.extensions import db
from promkm_qr.models import Kecamatan, Kelurahan, PurchaseReport, Stall, User


def test_login_page_in_indonesian_and_english(client):
    assert "Kata sandi" in client.get("/auth/masuk").get_data(as_text=True)
    assert "Password" in client.get("/auth/masuk?lang=en").get_data(as_text=True)


def test_404_page_is_friendly_in_both_languages(client):
    response = client.get("/tidak-ada")
    assert response.status_code == 404
    assert "Tidak ditemukan" in response.get_data(as_text=True)
    response = client.get("/tidak-ada?lang=en")
    assert "Not found" in response.get_data(as_text=True)


def test_security_headers_on_every_response(client):
    response = client.get("/auth/masuk")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_regions_are_loaded_from_data(app):
    assert db.session.scalar(select(func.count(Kecamatan.id))) == 3
    assert db.session.scalar(select(func.count(Kelurahan.id))) == 27
    taman = db.session.scalar(select(Kecamatan).where(Kecamatan.code == "35.77.03"))
    assert taman.name == "Taman" and len(taman.kelurahan) == 9


def test_demo_data_has_every_role_and_state(app):
    from promkm_qr.demo import build_demo

    summary = build_demo(stalls=60, asn=30, months=2)
    assert summary["stalls"] == 60
    roles = dict(db.session.execute(select(User.role, func.count()).group_by(User.role)).all())
    assert roles["dinas"] == 1 and roles["merchant"] >= 1 and roles["asn"] == 30
    states = set(db.session.scalars(select(PurchaseReport.state).distinct()))
    assert {"submitted", "confirmed", "disputed", "verified", "rejected"} <= states
    kelurahan_with_stalls = db.session.scalar(select(func.count(Stall.kelurahan_id.distinct())))
    assert kelurahan_with_stalls == 27


def test_create_user_command(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "create-user",
            "--role",
            "dinas",
            "--name",
            "Operator",
            "--login",
            "op2",
            "--staff-role",
            "operator",
            "--password",
            "rahasia-123",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "op2"))
    assert user.staff_role == "operator" and user.password_hash.startswith("scrypt")
    bad = runner.invoke(
        args=[
            "create-user",
            "--role",
            "asn",
            "--name",
            "X",
            "--login",
            "123",
            "--password",
            "rahasia-123",
        ]
    )
    assert bad.exit_code != 0 and "18 digit" in bad.output


def test_health(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
