"""Job progress pages: owners see their jobs; others get 404."""

from promkm_qr.extensions import db
from promkm_qr.jobs import create_job
from tests.conftest import login
from tests.factories import make_staff


def test_job_progress_is_visible_to_its_owner_only(client, app):
    owner = make_staff("operator", username="pemilik")
    make_staff("operator", username="lain")
    job = create_job("posters", created_by_id=owner.id)
    job.total, job.done = 10, 4
    db.session.commit()
    login(client, "dinas", "pemilik")
    assert client.get(f"/dinas/jobs/{job.id}.json").get_json()["percent"] == 40
    assert "progress" in client.get(f"/dinas/jobs/{job.id}").get_data(as_text=True)
    assert client.get(f"/dinas/jobs/{job.id}/hasil").status_code == 404  # not done yet
    other = app.test_client()
    login(other, "dinas", "lain")
    assert other.get(f"/dinas/jobs/{job.id}.json").status_code == 404


def test_result_of_a_job_whose_file_is_gone_is_404_not_500(client, app):
    from promkm_qr.jobs import finish_job
    from promkm_qr.storage import get_storage

    owner = make_staff("operator", username="pemilik")
    job = create_job("posters", created_by_id=owner.id)
    job.result_key = "jobs/hilang.pdf"
    finish_job(job)
    db.session.commit()
    login(client, "dinas", "pemilik")
    assert client.get(f"/dinas/jobs/{job.id}/hasil").status_code == 404
    get_storage().put(job.result_key, b"%PDF-1.7")
    response = client.get(f"/dinas/jobs/{job.id}/hasil")
    assert response.status_code == 200 and response.data == b"%PDF-1.7"
