"""A small city for the API: two OPD, ASN with spend in March 2026, stalls and a rule."""

import time
from datetime import datetime

import pytest

from promkm_qr.api.clients import create_client
from tests.conftest import csrf_token
from tests.factories import make_asn, make_opd, make_report, make_stall

MONTH = "2026-03"


@pytest.fixture
def city(app):
    """Two OPD of two ASN each; reports in every state in March, one in April."""
    opds = [make_opd("API1", "Dinas Satu"), make_opd("API2", "Dinas Dua")]
    stall = make_stall(name="Warung API")
    people = []
    for n in range(4):
        asn = make_asn(name=f"ASN API {n}", opd=opds[n % 2], position="pelaksana")
        people.append(asn)
    march = datetime(2026, 3, 10, 3)
    make_report(people[0], stall, 150_000, march, "confirmed")
    make_report(people[0], stall, 50_000, march, "verified")
    make_report(people[1], stall, 40_000, march, "disputed")
    make_report(people[1], stall, 30_000, march, "submitted")
    make_report(people[2], stall, 1_000_000, march, "rejected")
    make_report(people[3], stall, 90_000, datetime(2026, 4, 2, 3), "verified")
    return {"opds": opds, "people": people, "stall": stall}


def bearer(*scopes: str, opd_id: int | None = None) -> dict:
    """Headers with the token of a new client holding these scopes."""
    _id, token = create_client("Uji", list(scopes), opd_id=opd_id)
    return {"Authorization": f"Bearer {token}"}


def tpp_job(client, month: str, opd_id: int | None, fmt: str) -> bytes:
    """Start the TPP file job from the staff page (signed-in client), wait for the real
    worker to finish it and return the downloaded file."""
    started = client.post(
        "/dinas/tpp",
        data={"csrf_token": csrf_token(client, "/dinas/tpp"), "month": month,
              "opd_id": str(opd_id or 0), "fmt": fmt},
    )  # fmt: skip
    assert started.status_code == 302, started.get_data(as_text=True)
    job_url = started.headers["Location"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state = client.get(f"{job_url}.json").get_json()["state"]
        if state in ("done", "failed"):
            break
        time.sleep(0.3)
    assert state == "done"
    download = client.get(f"{job_url}/hasil")
    assert download.status_code == 200
    return download.get_data()
