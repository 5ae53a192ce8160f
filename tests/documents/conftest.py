"""Known data for the documents tests: one month of reports with edge cases at its borders."""

from datetime import datetime

import pytest

from promkm_qr.documents import batch
from promkm_qr.extensions import db
from promkm_qr.jobs import create_job
from tests.documents.factories import make_report
from tests.factories import make_asn, make_merchant, make_opd, make_stall

PERIOD = "2026-10"
HOSTILE = 'Warung <b>Bu</b> "Sugeng" & Putra ꦮꦫꦸꦁ Sumber Rejeki Makmur Sentosa Abadi Jaya'


def run_inline(period: str = PERIOD, **params):
    """Plan and generate a documents job in this process, chunk by chunk."""
    job = create_job("documents", {"period": period, **params})
    db.session.commit()
    batch.plan(job)
    for chunk in batch.pending_chunks(job):
        batch.generate(job.id, chunk)
    db.session.refresh(job)
    return job


@pytest.fixture
def month(app):
    """Two OPD staff with reports in October 2026 (WIB), one with none, one with a long list."""
    opd = make_opd(code="DINKES", name="Dinas Kesehatan")
    sri = make_asn(name="Sri <i>Rahayu</i>", opd=opd, position="pelaksana")
    budi = make_asn(name="Budi Santoso", opd=opd, position="eselon-iv")
    rina = make_asn(name="Rina Wulandari", opd=opd, position="pelaksana")
    merchant = make_merchant(name="Bu Sugeng")
    stall = make_stall(owner=merchant, name=HOSTILE)
    # 1 Oct 00:30 WIB is still 30 Sep in UTC; 1 Nov 00:30 WIB is 31 Oct in UTC.
    make_report(sri, stall, 25_000, datetime(2026, 9, 30, 17, 30), "verified")
    make_report(sri, stall, 15_000, datetime(2026, 10, 10, 3), "confirmed")
    make_report(sri, stall, 10_000, datetime(2026, 10, 11, 3), "disputed", flagged=True)
    make_report(sri, stall, 7_500, datetime(2026, 10, 12, 3), "submitted")
    make_report(sri, stall, 99_000, datetime(2026, 10, 31, 17, 30), "verified")
    make_report(sri, stall, 33_000, datetime(2026, 9, 15, 3), "verified")
    for day in range(70):
        make_report(rina, stall, 1_000 + day, datetime(2026, 10, 1 + day % 30, 4), "verified")
    return {"opd": opd, "sri": sri, "budi": budi, "rina": rina, "merchant": merchant,
            "stall": stall}
