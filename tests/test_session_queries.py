"""What checking a signed-in browser's session costs: one query, for staff as for others."""

import pytest

from tests.asn.test_submission_queries import statements
from tests.conftest import login
from tests.factories import make_asn, make_staff

# A page that reads nothing itself (its layout counts unread notifications).
PAGE = "/auth/sandi"


@pytest.mark.parametrize("role", ["dinas", "asn"])
def test_an_authenticated_request_costs_one_query(app, client, role):
    if role == "dinas":
        make_staff("admin", username="admin")
        login(client, "dinas", "admin")
    else:
        login(client, "asn", make_asn().nip)
    client.get(PAGE)  # the first request after sign-in may write last_seen_at; not this one
    with statements() as seen:
        response = client.get(PAGE)
    assert response.status_code == 200
    # The session, its account and (for staff) the session limits: one query, no other read
    # of the settings, users or sessions.
    check = [s for s in seen if any(t in s for t in ("user_sessions", "users", "settings"))]
    assert len(check) == 1, "\n".join(seen)
    assert "FROM user_sessions JOIN users" in check[0]
    assert len(seen) == 2, "\n".join(seen)  # and the layout's count of unread notifications
