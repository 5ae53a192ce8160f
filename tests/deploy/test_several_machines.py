"""Web and workers on different machines: two web instances and two workers, each with its
own instance folder, sharing one storage root (the city's shared volume), one PostgreSQL and
one Redis. Each process runs its systemd unit's ExecStart line.
"""

import hashlib
from dataclasses import dataclass

import pytest
import requests
from sqlalchemy import select

from promkm_qr.core.dates import now_wib
from tests.asn.conftest import jpeg_bytes
from tests.deploy.conftest import (
    csrf_of,
    layout_app,
    report_fields,
    report_id_of,
    seed,
    sign_in,
)
from tests.support.layout import Machine, forget_queue, layout_env, wait_for
from tests.support.servers import free_port, wait_port

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis, pytest.mark.worker]


@dataclass
class TwoMachines:
    a: Machine
    b: Machine
    url_a: str
    url_b: str
    world: dict
    storage: object
    app: object


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.RequestException:
        return False


@pytest.fixture(scope="module")
def machines(tmp_path_factory, layout_database):
    folder = tmp_path_factory.mktemp("machines")
    storage = folder / "shared-storage"
    port_a, port_b = free_port(), free_port()
    env = layout_env(layout_database, storage, PUBLIC_BASE_URL=f"http://127.0.0.1:{port_a}")
    a = Machine("a", env, folder / "machine-a")
    b = Machine("b", env, folder / "machine-b")
    try:
        with layout_app(env, str(folder / "test-instance")) as app:
            world = seed(app)
            a.web(bind=f"127.0.0.1:{port_a}")
            b.web(bind=f"127.0.0.1:{port_b}")
            a.worker("1")
            b.worker("2")
            for port in (port_a, port_b):
                wait_port(port, timeout=60)
                wait_for(lambda p=port: _answers(f"http://127.0.0.1:{p}/healthz"), 120, "web")
            url_a, url_b = f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}"
            yield TwoMachines(a, b, url_a, url_b, world, storage, app)
    finally:
        try:
            a.stop()
        finally:
            b.stop()
            forget_queue(env)


def files_under(folder) -> set[str]:
    """Relative paths of the files under a folder."""
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_photo_sent_to_web_a_is_processed_and_served_by_web_b(machines):
    session = requests.Session()
    sign_in(session, machines.url_a, machines.world["nip"])
    form_url = machines.url_a + machines.world["form_path"]
    form = session.get(form_url, timeout=20)
    sent = session.post(
        form_url,
        data=report_fields(csrf_of(form.text)),
        files={"photo": ("nota.jpg", jpeg_bytes(800, 600), "image/jpeg")},
        allow_redirects=False,
        timeout=30,
    )
    report_id = report_id_of(sent)

    # The same session (one SECRET_KEY) on web B, which never saw the upload.
    photo_url = f"{machines.url_b}/asn/foto/{report_id}"
    photo = wait_for(
        lambda: (r := session.get(photo_url, timeout=20)).status_code == 200 and r,
        60, "the processed photo on web B",
    )  # fmt: skip
    assert photo.content.startswith(b"\xff\xd8")
    stored = files_under(machines.storage)
    assert any((machines.storage / key).read_bytes() == photo.content for key in stored)
    assert session.get(f"{photo_url}/kecil", timeout=20).status_code == 200
    # Nothing of the report lives in either machine's own folder.
    for machine in (machines.a, machines.b):
        assert not any(name.endswith(".jpg") for name in files_under(machine.instance))


def test_document_made_by_worker_b_is_downloaded_through_web_a(machines):
    from promkm_qr.documents.services import start_batch
    from promkm_qr.extensions import db
    from promkm_qr.models import Document

    # Only worker B runs: it makes the document.
    worker_a = next(p for p in machines.a.processes if "worker" in p.args)
    worker_a.terminate()
    worker_a.wait(60)
    period = now_wib().strftime("%Y-%m")
    subject = str(machines.world["asn_id"])
    start_batch({"period": period, "kinds": ["asn_receipt"], "subject": subject}, None)

    def made() -> Document | None:
        db.session.rollback()
        return db.session.scalar(
            select(Document).where(Document.subject == subject, Document.state == "done")
        )

    doc = wait_for(made, 120, "the receipt made by worker B")
    assert "Task promkm_qr.documents.chunk[" in machines.b.log("worker")
    assert "Task promkm_qr.documents.chunk[" not in machines.a.log("worker")

    session = requests.Session()
    sign_in(session, machines.url_a, machines.world["nip"])
    listing = session.get(f"{machines.url_a}/dokumen/saya", timeout=20)
    assert doc.public_id in listing.text
    pdf = session.get(f"{machines.url_a}/dokumen/{doc.public_id}/unduh", timeout=30)
    assert pdf.status_code == 200
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert hashlib.sha256(pdf.content).hexdigest() == doc.checksum
    assert doc.storage_key in files_under(machines.storage)
