"""Bad input to the TPP file (page and API) and to the admin's API-client form: a clear
message or problem document, nothing made, nothing typed lost; a good create empties the form."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from promkm_qr.api.clients import ClientError, create_client
from promkm_qr.core.dates import now_wib
from promkm_qr.extensions import db
from promkm_qr.models import ApiClient, Job
from promkm_qr.models.base import utcnow
from tests.api.conftest import bearer
from tests.conftest import csrf_token, login
from tests.factories import make_staff

THIS_MONTH = now_wib().strftime("%Y-%m")
NEXT_YEAR = f"{now_wib().year + 1}-01"
BAD_MONTHS = {
    "2026-13": "TTTT-BB",
    "Maret 2026": "TTTT-BB",
    "": "TTTT-BB",
    NEXT_YEAR: "belum tiba",
    THIS_MONTH: "belum ditutup",
}


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize(("month", "message"), BAD_MONTHS.items())
def test_the_tpp_page_refuses_a_bad_month_with_a_message(app, client, month, message):
    make_staff("operator", username="gaji")
    login(client, "dinas", "gaji")
    answer = client.post(
        "/dinas/tpp",
        data={"csrf_token": csrf_token(client, "/dinas/tpp"), "month": month, "opd_id": "0",
              "fmt": "csv"},
    )  # fmt: skip
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert message in html and 'role="alert"' in html
    assert f'value="{month}"' in html or not month  # what was typed stays
    assert _count(Job) == 0


@pytest.mark.parametrize(
    ("month", "status", "detail"),
    [
        ("2026-13", 422, "month"),
        ("2026-3", 422, "month"),
        (NEXT_YEAR, 422, "future"),
        (THIS_MONTH, 409, "not closed"),
    ],
)
def test_the_tpp_file_api_answers_a_bad_month_with_a_problem(client, month, status, detail):
    answer = client.get(
        "/api/v1/compliance/tpp-file",
        query_string={"month": month},
        headers=bearer("read:compliance"),
    )
    assert answer.status_code == status
    assert answer.mimetype == "application/problem+json"
    assert detail in str(answer.get_json())


def _create(client, **fields):
    data = {"csrf_token": csrf_token(client, "/dinas/klien-api"), "opd_id": "0", **fields}
    return client.post("/dinas/klien-api", data=data)


def _name_value(html: str) -> str | None:
    """The value of the form's name input (None when it has none)."""
    tag = re.search(r'<input[^>]*name="name"[^>]*>', html).group(0)
    found = re.search(r'value="([^"]*)"', tag)
    return found.group(1) if found else None


def _checked_scopes(html: str) -> set[str]:
    tags = re.findall(r'<input[^>]*name="scopes"[^>]*>', html)
    return {re.search(r'value="([^"]*)"', t).group(1) for t in tags if "checked" in t}


def test_a_created_client_leaves_the_form_empty(app, client):
    make_staff("admin", username="pembuat")
    login(client, "dinas", "pembuat")
    html = _create(
        client, name="Portal data", scopes=["read:stalls", "read:reports"], days="30"
    ).get_data(as_text=True)
    assert "pqr_" in html  # the token, shown this once
    assert not _name_value(html) and _checked_scopes(html) == set()
    assert 'name="days"' in html and 'value="30"' not in html
    assert _count(ApiClient) == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"scopes": []}, "scopes"),
        ({"scopes": ["read:everything"]}, "scopes"),
        ({"scopes": ["read:stalls", "write:everything"]}, "scopes"),
        ({"scopes": ["read:stalls"], "days": "0"}, "days"),
        ({"scopes": ["read:stalls"], "days": "-5"}, "days"),
        ({"scopes": ["read:stalls"], "days": "besok"}, "days"),
    ],
)
def test_a_refused_client_keeps_what_was_typed(app, client, fields, field):
    make_staff("admin", username="pembuat")
    login(client, "dinas", "pembuat")
    answer = _create(client, name="Portal data", **fields)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "pqr_" not in html and _count(ApiClient) == 0
    assert _name_value(html) == "Portal data"
    assert _checked_scopes(html) == set(fields["scopes"]) & {"read:stalls"}
    fieldset = html.split(f'name="{field}"')[0].rsplit("<fieldset", 1)[-1]
    assert field == "days" or "has-error" in fieldset
    assert 'role="alert"' in html


@pytest.mark.parametrize(
    ("scopes", "expires"),
    [([], None), (["read:everything"], None), (["read:stalls"], timedelta(seconds=-1))],
)
def test_the_client_service_refuses_what_the_form_would(app, scopes, expires):
    with pytest.raises(ClientError):
        create_client("Portal", scopes, expires_at=utcnow() + expires if expires else None)
    assert _count(ApiClient) == 0
