"""What making one person's archive asks the database: not a query per report."""

import pytest
from sqlalchemy import update

from promkm_qr.extensions import db
from promkm_qr.jobs import create_job
from promkm_qr.models import Job, ReportTransition, User
from promkm_qr.personal_data import services
from tests.asn.test_submission_queries import statements
from tests.factories import make_asn, make_merchant, make_report, make_stall
from tests.test_data_export import _photo


def _statements_of_make(person_id: int) -> list[str]:
    job = create_job(services.KIND, {"person_id": person_id}, created_by_id=person_id)
    db.session.commit()
    job_id = job.id
    db.session.remove()  # the worker starts with nothing loaded
    with statements() as seen:
        assert services.make(job_id) == "done"
    assert db.session.get(Job, job_id).result_key
    return seen


def _person_with_reports(role: str, count: int) -> User:
    asn = make_asn()
    merchant = make_merchant()
    stalls = [make_stall(owner=merchant) for _ in range(3)]
    for n in range(count):
        evidence = _photo(asn.id, f"photo {role} {count} {n}".encode())
        state = ("submitted", "confirmed", "disputed")[n % 3]
        make_report(asn, stalls[n % 3], 10_000 + n, state=state, evidence=evidence, reason="x")
    # The merchant's decisions name their actor, whose role the history shows.
    db.session.execute(
        update(ReportTransition)
        .where(ReportTransition.to_state != "submitted")
        .values(actor_id=merchant.id)
    )
    db.session.commit()
    return asn if role == "asn" else merchant


@pytest.mark.parametrize("role", ["asn", "merchant"])
def test_an_archive_costs_the_same_statements_for_few_or_many_reports(app, role):
    few = _statements_of_make(_person_with_reports(role, 2).id)
    many = _statements_of_make(_person_with_reports(role, 9).id)
    assert len(many) == len(few), "\n".join(many)
