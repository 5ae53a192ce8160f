"""Bulk poster jobs through the real worker: one PDF, the right page count, reruns."""

import time

import pytest
from sqlalchemy import func, select

from promkm_qr.extensions import db
from promkm_qr.jobs import create_job
from promkm_qr.models import Job, JobChunk, PosterPrint
from promkm_qr.storage import get_storage
from promkm_qr.tasks.stalls import print_chunk, print_posters
from tests.conftest import csrf_token
from tests.factories import make_stall
from tests.stalls.conftest import decode_pages, page_count

pytestmark = pytest.mark.worker


def _wait(job_id: str, timeout: float = 120, states=("done", "failed")) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.rollback()
        job = db.session.get(Job, job_id)
        if job.state in states:
            return job
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} did not finish: {job.state} {job.done}/{job.total}")


def test_bulk_job_from_the_page_builds_one_pdf(client, operator, worker, tmp_path):
    stalls = [make_stall(name=f"Warung {n}", kel_code="35.77.03.1001") for n in range(5)]
    make_stall(name="Lain kelurahan")
    make_stall(name="Dibekukan", status="suspended", kel_code="35.77.03.1001")
    kel = stalls[0].kelurahan_id
    response = client.post(
        "/dinas/poster",
        data={
            "csrf_token": csrf_token(client, "/dinas/poster"),
            "scope": "kelurahan",
            "kelurahan": str(kel),
            "format": "stickers",
        },
    )
    assert response.status_code == 302
    job_id = response.headers["Location"].rsplit("/", 1)[1]
    job = _wait(job_id)
    assert job.state == "done", job.error
    assert (job.done, job.total) == (5, 5)
    with client.get(f"/dinas/jobs/{job_id}/hasil") as download:
        assert download.status_code == 200
        pdf = download.data
    pages = decode_pages(pdf, tmp_path)
    assert len(pages) == 1 and len(pages[0]) == 5
    assert all(s.code in url for s, url in zip(stalls, sorted(pages[0]), strict=True))


def test_many_chunks_join_into_one_pdf_with_every_page(app, worker, operator):
    ids = [make_stall(name=f"Lapak {n}").id for n in range(23)]
    job = create_job(
        "posters", {"format": "poster", "stall_ids": ids, "chunk_size": 5}, operator.id
    )
    db.session.commit()
    print_posters.delay(job.id)
    job = _wait(job.id)
    assert job.state == "done", job.error
    pdf = get_storage().get(job.result_key)
    assert page_count(pdf) == 23
    assert db.session.scalar(select(func.count(JobChunk.id))) == 5
    assert db.session.scalar(select(func.count(PosterPrint.id))) == 23
    # The parts are removed once joined.
    assert not list(get_storage().path(job.result_key).parent.glob("part-*"))


def test_rerun_of_a_failed_job_prints_each_stall_once(app, worker, operator):
    ids = [make_stall(name=f"Lapak {n}").id for n in range(12)]
    job = create_job("posters", {"format": "card", "stall_ids": ids, "chunk_size": 4}, operator.id)
    job.state = "running"
    db.session.commit()
    # The first chunk was printed before the job was interrupted.
    print_chunk(job.id, 0)
    db.session.rollback()
    job = db.session.get(Job, job.id)
    job.state, job.error = "failed", "worker lost"
    db.session.commit()
    print_posters.delay(job.id)  # what the page's rerun button sends
    job = _wait(job.id, states=("done",))
    assert job.state == "done", job.error
    assert (job.done, job.total) == (12, 12)
    assert page_count(get_storage().get(job.result_key)) == 12
    assert db.session.scalar(select(func.count(PosterPrint.id))) == 12


@pytest.mark.parametrize(
    "choice",
    [
        {"scope": "selection", "codes": "3577011001-99999\n<b>KODE</b>"},
        {"scope": "kelurahan", "kelurahan": "bukan-angka"},
    ],
)
def test_a_choice_matching_no_stall_is_refused_and_the_form_keeps_it(client, operator, choice):
    make_stall(name="Warung Aktif")
    data = {"csrf_token": csrf_token(client, "/dinas/poster"), "format": "card", **choice}
    response = client.post("/dinas/poster", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Tidak ada lapak aktif yang cocok" in html
    assert f'value="{choice["scope"]}" checked' in html
    assert '<option value="card" selected>' in html
    if "codes" in choice:
        assert "3577011001-99999\n&lt;b&gt;KODE&lt;/b&gt;</textarea>" in html
    assert db.session.scalar(select(func.count()).select_from(Job)) == 0


def test_an_unknown_format_is_refused(client, operator):
    make_stall(name="Warung Aktif")
    data = {"csrf_token": csrf_token(client, "/dinas/poster"), "scope": "all", "format": "x"}
    assert client.post("/dinas/poster", data=data).status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Job)) == 0
