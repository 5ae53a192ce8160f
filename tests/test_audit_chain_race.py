"""Audit entries written by several threads at once still form one unbroken chain."""

import threading

from sqlalchemy import func, select

from promkm_qr import audit
from promkm_qr.extensions import db
from promkm_qr.models import AuditEntry

THREADS, ENTRIES = 3, 25


def test_concurrent_writers_do_not_fork_the_chain(app):
    barrier = threading.Barrier(THREADS)
    errors = []

    def write(n: int) -> None:
        try:
            with app.app_context():  # a session of its own, as a web or worker process has
                barrier.wait()
                for i in range(ENTRIES):
                    audit.record("test.concurrent", "thread", n, data={"i": i})
                    db.session.commit()
                db.session.remove()
        except Exception as exc:  # reported below; a thread's exception is otherwise lost
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    db.session.rollback()
    assert db.session.scalar(select(func.count(AuditEntry.id))) == THREADS * ENTRIES
    forks = db.session.execute(
        select(AuditEntry.prev_hash, func.count())
        .group_by(AuditEntry.prev_hash)
        .having(func.count() > 1)
    ).all()
    assert forks == []
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert f"{THREADS * ENTRIES} entri" in result.output
