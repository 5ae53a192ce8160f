"""Every kind of generated PDF read back as a file: fonts embedded, official documents PDF/A-3b.

Kinds come from the code's own lists (poster formats, document kinds), so a new kind is
checked without anyone remembering to add it here.
"""

import time
from datetime import datetime

import pytest

from promkm_qr.documents.kinds import KINDS
from promkm_qr.extensions import db
from promkm_qr.jobs import create_job
from promkm_qr.models import Document, Job
from promkm_qr.stalls import posters
from promkm_qr.storage import get_storage
from promkm_qr.tasks.stalls import print_posters
from tests.documents.conftest import run_inline
from tests.factories import make_report, make_staff, make_stall
from tests.support.pdf_files import assert_pdfa_3b, pdffonts, unembedded_fonts

EMOJI_NAME = "Mie Ayam 🍜 Pak Budi"


def _documents(month) -> dict[str, bytes]:
    """Every stored file of a month's batch by kind and subject, an emoji stall in the lists."""
    stall = make_stall(owner=month["merchant"], name=EMOJI_NAME)
    make_report(month["sri"], stall, 12_000, datetime(2026, 10, 20, 3), "confirmed")
    job = run_inline()
    assert job.state == "done" and job.failed == 0
    docs = db.session.query(Document).order_by(Document.id).all()
    assert {doc.kind for doc in docs} == set(KINDS)
    return {f"{doc.kind} {doc.subject}": get_storage().get(doc.storage_key) for doc in docs}


def _bulk(fmt: str, stall_ids: list[int], staff_id: int) -> bytes:
    """The joined PDF of a bulk print job run by the worker, one chunk per stall."""
    job = create_job("posters", {"format": fmt, "stall_ids": stall_ids, "chunk_size": 1}, staff_id)
    db.session.commit()
    print_posters.delay(job.id)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        db.session.rollback()
        job = db.session.get(Job, job.id)
        if job.state in ("done", "failed"):
            break
        time.sleep(0.3)
    assert job.state == "done", job.error
    return get_storage().get(job.result_key)


@pytest.mark.worker
def test_every_generated_pdf_embeds_every_font(app, month, worker):
    staff = make_staff("operator")
    emoji = make_stall(name=EMOJI_NAME)
    ids = [month["stall"].id, emoji.id]  # Javanese script and an emoji among the names
    files = {}
    with app.test_request_context():
        for fmt in posters.FORMATS:
            files[fmt] = posters.print_one(emoji, fmt, revoke=False, actor_id=staff.id)
            files[f"{fmt} (bulk, joined)"] = _bulk(fmt, ids, staff.id)
    files.update(_documents(month))
    for kind, pdf in files.items():
        assert unembedded_fonts(pdf) == [], kind
        listed = pdffonts(pdf)
        assert listed and all(embedded for _name, embedded in listed), (kind, listed)


def test_official_documents_are_pdf_a_3b(month):
    for kind, pdf in _documents(month).items():
        try:
            assert_pdfa_3b(pdf)
        except AssertionError as error:
            raise AssertionError(f"{kind}: {error}") from error
