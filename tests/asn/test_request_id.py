"""One report followed by its request id from the POST to the worker's photo task (JSON logs)."""

import json
import time
import uuid

from promkm_qr.models import PurchaseReport
from tests.asn.conftest import jpeg_bytes, open_form, post, report_data
from tests.conftest import IsolatedClient, login
from tests.faults.conftest import other_app
from tests.support.worker import Worker


def test_the_request_id_reaches_the_photo_task_in_the_worker_log(
    app, session_env, asn, stall, form_url, tmp_path
):
    queue = f"test-rid-{uuid.uuid4().hex[:8]}"
    log_path = tmp_path / "worker.log"
    config = {"CELERY": {**app.config["CELERY"], "task_default_queue": queue}}
    env = {**session_env, "PROMKM_QUEUE": queue, "LOG_FORMAT": "json"}
    with open(log_path, "w+b") as log, other_app(config) as web:
        web.test_client_class = IsolatedClient
        worker = Worker(env, log=log, loglevel="INFO")
        try:
            client = web.test_client()
            assert login(client, "asn", asn.nip).status_code == 302
            data = report_data(open_form(client, form_url), jpeg_bytes(400, 300))
            answer = post(client, form_url, data, headers={"X-Request-ID": "nginx-4f2a9c"})
            assert answer.headers["X-Request-ID"] == "nginx-4f2a9c"
            deadline = time.monotonic() + 120
            while b"photo of report" not in log_path.read_bytes():
                assert time.monotonic() < deadline, log_path.read_text()[-3000:]
                time.sleep(0.5)
        finally:
            worker.stop()
    report_id = PurchaseReport.query.filter_by(asn_id=asn.id).one().id
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line[:1] == "{"]
    photo = [line for line in lines if "photo of report" in line["message"]]
    assert photo == [
        {
            "time": photo[0]["time"],
            "level": "INFO",
            "logger": "promkm_qr.tasks.evidence",
            "message": f"photo of report {report_id} done, rules checked",
            "request_id": "nginx-4f2a9c",
        }
    ]


def test_a_request_id_is_made_when_nginx_sends_none_or_a_forged_one(client):
    made = client.get("/healthz").headers["X-Request-ID"]
    assert len(made) == 32
    forged = client.get("/healthz", headers={"X-Request-ID": 'x" {"level": "INFO"}'})
    assert len(forged.headers["X-Request-ID"]) == 32
