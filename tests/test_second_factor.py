"""Staff second factor: enrollment, sign-in, replay, recovery codes, reset by an admin."""

import re

import pyotp
from sqlalchemy import select

from promkm_qr.extensions import db
from promkm_qr.models import AuditEntry, User
from tests.conftest import PASSWORD, TOTP_SECRET, csrf_token, second_step
from tests.factories import make_staff

STEP = "/auth/dua-langkah"
ENROLL = "/auth/dua-langkah/daftar"


def password_step(client, username: str):
    """Only the first step: username and password."""
    token = csrf_token(client, "/auth/masuk")
    return client.post(
        "/auth/masuk",
        data={"csrf_token": token, "role": "dinas", "identifier": username, "password": PASSWORD},
    )


def signed_in(client) -> bool:
    """Whether the client holds a full session (the password page needs one)."""
    return client.get("/auth/sandi").status_code == 200


def test_enrollment_shows_an_inline_qr_and_ten_recovery_codes_stored_hashed(client):
    user = make_staff("reviewer", username="rina", totp_secret=None)
    assert password_step(client, "rina").headers["Location"].endswith(ENROLL)
    # Half-signed-in: nothing but enrollment opens.
    assert not signed_in(client)
    assert client.get(STEP).status_code == 302  # not enrolled yet: back to enrollment
    page = client.get(ENROLL).get_data(as_text=True)
    assert 'src="data:image/svg+xml' in page
    secret = re.search(r"<code data-secret>([A-Z2-7]+)</code>", page).group(1)
    assert second_step(client, ENROLL, "000000").status_code == 401
    done = second_step(client, ENROLL, pyotp.TOTP(secret).now())
    assert done.status_code == 200
    codes = re.findall(
        r"<li><code>([0-9a-f]{6}-[0-9a-f]{6})</code></li>", done.get_data(as_text=True)
    )
    assert len(set(codes)) == 10
    db.session.refresh(user)
    assert user.totp_secret == secret
    assert len(user.recovery_code_hashes) == 10
    assert not any(code in str(user.recovery_code_hashes) for code in codes)
    assert signed_in(client)
    assert client.get(ENROLL).status_code == 404  # and the half state is gone


def test_sign_in_needs_the_code_after_the_password(client):
    make_staff("operator", username="oki")
    assert password_step(client, "oki").headers["Location"].endswith(STEP)
    assert not signed_in(client)
    assert second_step(client, STEP, "123456").status_code == 401
    done = second_step(client, STEP, pyotp.TOTP(TOTP_SECRET).now())
    assert done.status_code == 302 and done.headers["Location"].endswith("/dinas/")
    assert signed_in(client)


def test_a_used_code_is_refused_within_its_window(app, client):
    make_staff("admin", username="ani")
    code = pyotp.TOTP(TOTP_SECRET).now()
    password_step(client, "ani")
    assert second_step(client, STEP, code).status_code == 302
    thief = app.test_client()
    password_step(thief, "ani")
    refused = second_step(thief, STEP, code)
    assert refused.status_code == 401
    assert "sudah dipakai" in refused.get_data(as_text=True)
    assert not signed_in(thief)


def enrolled_with_codes(client, username: str) -> list[str]:
    make_staff("reviewer", username=username, totp_secret=None)
    password_step(client, username)
    secret = re.search(r"data-secret>([A-Z2-7]+)<", client.get(ENROLL).get_data(as_text=True))
    done = second_step(client, ENROLL, pyotp.TOTP(secret.group(1)).now())
    return re.findall(r"<code>([0-9a-f-]{13})</code>", done.get_data(as_text=True))


def test_a_recovery_code_signs_in_once(app, client):
    codes = enrolled_with_codes(client, "rudi")
    first, second = app.test_client(), app.test_client()
    password_step(first, "rudi")
    assert second_step(first, STEP, codes[3].upper()).status_code == 302
    password_step(second, "rudi")
    assert second_step(second, STEP, codes[3]).status_code == 401
    user = db.session.scalar(select(User).where(User.username == "rudi"))
    db.session.refresh(user)
    assert len(user.recovery_code_hashes) == 9


def test_codes_are_rate_limited_per_account(client):
    make_staff("operator", username="olga")
    password_step(client, "olga")
    statuses = [second_step(client, STEP, "000000").status_code for _ in range(10)]
    assert statuses[0] == 401
    assert statuses[-1] == 429


def test_an_admin_resets_a_second_factor_and_ends_its_sessions(app, client):
    admin = make_staff("admin", username="adi")
    target = make_staff("reviewer", username="ria")
    theirs = app.test_client()
    password_step(theirs, "ria")
    second_step(theirs, STEP, pyotp.TOTP(TOTP_SECRET).now())
    assert signed_in(theirs)
    password_step(client, "adi")
    second_step(client, STEP, pyotp.TOTP(TOTP_SECRET).now())
    page = f"/dinas/staf/{target.id}"
    token = csrf_token(client, page)
    reset = client.post(f"{page}/dua-langkah", data={"csrf_token": token})
    assert reset.status_code == 302
    assert client.post(f"{page}/dua-langkah").status_code == 400  # no CSRF token
    db.session.refresh(target)
    assert target.totp_secret is None and target.recovery_code_hashes is None
    assert not signed_in(theirs)
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "staff.second_factor_reset")
    )
    assert entry.actor_id == admin.id and entry.object_id == str(target.id)
    assert password_step(theirs, "ria").headers["Location"].endswith(ENROLL)


def test_a_setting_decides_for_viewers(app, client, monkeypatch):
    make_staff("viewer", username="vina", totp_secret=None)
    assert password_step(client, "vina").headers["Location"].endswith(ENROLL)
    monkeypatch.setitem(app.config, "STAFF_TOTP_FOR_VIEWER", False)
    other = app.test_client()
    assert password_step(other, "vina").headers["Location"].endswith("/dinas/")
