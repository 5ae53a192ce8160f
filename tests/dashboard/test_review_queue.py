"""The review-queue rollup (migration 0009) equals the open queue counted from the reports
after every kind of change, pending or folded, city-wide and in one kecamatan."""

import threading
from collections import Counter
from datetime import date, datetime

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import OperationalError

from promkm_qr.dashboard import queries, rollups
from promkm_qr.dashboard.filters import Filters
from promkm_qr.extensions import db
from promkm_qr.models import Kecamatan, Kelurahan, PurchaseReport, ReportFlag
from promkm_qr.reports import checks, review
from tests.factories import make_report, make_staff

OPEN = "('submitted', 'confirmed', 'disputed')"


def _direct(f: Filters) -> list[dict]:
    """The queue per reason straight from the reports and flags, as the panel used to count."""
    flags = db.session.execute(
        text(
            "SELECT s.kelurahan_id, f.rule FROM purchase_reports r "  # noqa: S608 (constant)
            "JOIN report_flags f ON f.report_id = r.id JOIN stalls s ON s.id = r.stall_id "
            f"WHERE r.flagged AND r.state IN {OPEN}"
        )
    ).all()
    disputed = db.session.execute(
        text(
            "SELECT s.kelurahan_id FROM purchase_reports r JOIN stalls s ON s.id = r.stall_id "
            "WHERE r.state = 'disputed'"
        )
    ).all()
    inside = lambda kel: f.kelurahan_ids is None or kel in f.kelurahan_ids  # noqa: E731
    counts = Counter(rule for kel, rule in flags if inside(kel))
    rows = [{"label": rule, "count": n} for rule, n in counts.items()]
    rows.append({"label": "disputed", "count": sum(1 for (kel,) in disputed if inside(kel))})
    return sorted(rows, key=lambda r: (-r["count"], r["label"]))


def _views() -> list[Filters]:
    taman = db.session.scalars(
        select(Kelurahan.id).join(Kecamatan).where(Kecamatan.name == "Taman")
    ).all()
    month = (date(2026, 3, 1), date(2026, 3, 31))
    return [Filters(*month), Filters(*month, tuple(sorted(taman)), True)]


def _assert_exact(folded_too: bool = False) -> None:
    """The panel equals the direct count now and, when asked, after a fold."""
    db.session.commit()
    for f in _views():
        assert queries.review_reasons(f) == _direct(f)
    if folded_too:
        rollups.fold()
        db.session.commit()
        assert db.session.scalar(text("SELECT count(*) FROM review_deltas")) == 0
        for f in _views():
            assert queries.review_reasons(f) == _direct(f)


def test_queue_rollup_follows_every_change(app, city):
    north, south = city["north"], city["south"]
    flagged = next(r for r in city["reports"] if r.amount == 70_000)
    _assert_exact()
    # A new report inserted already flagged, with two flags.
    extra = make_report(
        city["asn_a"], north, 12_000, datetime(2026, 3, 9, 3), "confirmed",
        flags=["amount", "repeat"],
    )  # fmt: skip
    _assert_exact(folded_too=True)
    # The rules run again: one flag goes, another comes (delete, insert, refresh `flagged`).
    db.session.execute(
        delete(ReportFlag).where(ReportFlag.report_id == extra.id, ReportFlag.rule == "repeat")
    )
    db.session.add(ReportFlag(report_id=extra.id, rule="hours", detail="x"))
    checks._refresh_flagged([extra.id])
    _assert_exact()
    # Every flag of a report removed: it leaves the queue.
    db.session.execute(delete(ReportFlag).where(ReportFlag.report_id == flagged.id))
    checks._refresh_flagged([flagged.id])
    _assert_exact(folded_too=True)
    # The unanswered sweep flags every old submitted report in bulk.
    assert review.sweep_unanswered(now=datetime(2030, 1, 1)) > 0
    _assert_exact()
    # A flag without `flagged` set does not count; setting it does.
    quiet = make_report(city["asn_b"], south, 8_000, datetime(2026, 3, 3, 3), "submitted")
    db.session.add(ReportFlag(report_id=quiet.id, rule="photo", detail="x"))
    _assert_exact()
    checks._refresh_flagged([quiet.id])
    _assert_exact()
    # The merchant disputes a flagged report; the dinas decides another.
    review.dispute(quiet.id, south.owner_id, "amount")
    review.decide([extra.id], make_staff("reviewer"), "rejected", "nominal tidak wajar")
    _assert_exact(folded_too=True)
    # A report moved to a stall in another kecamatan; a flag renamed by hand.
    db.session.execute(update(PurchaseReport).where(PurchaseReport.id == quiet.id).values(
        stall_id=north.id))  # fmt: skip
    db.session.execute(update(ReportFlag).where(ReportFlag.rule == "photo").values(rule="hours"))
    _assert_exact()
    # A stall moves to a kelurahan in another kecamatan with its open queue.
    assert queries.review_reasons(_views()[1]) != queries.review_reasons(_views()[0])
    db.session.execute(text("UPDATE stalls SET kelurahan_id = :k WHERE id = :s"),
                       {"k": south.kelurahan_id, "s": north.id})  # fmt: skip
    assert queries.review_reasons(_views()[1]) == queries.review_reasons(_views()[0])
    _assert_exact(folded_too=True)


def test_fold_twice_and_rebuild_keep_the_queue(app, city):
    make_report(city["asn_a"], city["north"], 5_000, state="disputed", flags=["amount"])
    db.session.commit()
    assert rollups.fold() > 0
    db.session.commit()
    stored = db.session.execute(text("SELECT * FROM rollup_review ORDER BY 1, 2")).all()
    assert stored and all(row[2] > 0 for row in stored)
    assert rollups.fold() == 0
    rollups.rebuild()
    db.session.commit()
    assert db.session.execute(text("SELECT * FROM rollup_review ORDER BY 1, 2")).all() == stored
    _assert_exact()


def test_concurrent_flag_and_flagged_change_both_count(app, city):
    """PostgreSQL, two sessions: one marks a report flagged while the other adds its first
    flag. Each trigger reads the other's change only once it commits; the flag trigger locks
    the report first, so it waits for the update and then sees the report flagged."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    report = make_report(city["asn_a"], city["south"], 9_000, datetime(2026, 3, 4, 3))
    db.session.commit()
    marker, adder = db.engine.connect(), db.engine.connect()
    try:
        marker.begin()
        marker.execute(
            text("UPDATE purchase_reports SET flagged = true WHERE id = :r"), {"r": report.id}
        )
        done = threading.Event()

        def add_flag():
            with adder.begin():
                adder.execute(
                    text("INSERT INTO report_flags (report_id, rule, detail, created_at) "
                         "VALUES (:r, 'photo', 'x', now())"),
                    {"r": report.id},
                )  # fmt: skip
            done.set()

        worker = threading.Thread(target=add_flag)
        worker.start()
        assert not done.wait(1), "the flag trigger should wait for the report's update"
        marker.commit()
        worker.join(10)
        assert done.is_set()
    finally:
        marker.close()
        adder.close()
    _assert_exact(folded_too=True)
    assert {"label": "photo", "count": 1} in queries.review_reasons(_views()[0])


def test_stall_edits_do_not_wait_for_flag_writers_but_moves_do(app, city):
    """PostgreSQL: a transaction adding a flag holds its stall FOR KEY SHARE only, so an
    ordinary stall edit goes through (no deadlock with the audit lock), while a move to
    another kelurahan waits for it and then moves the new flag too."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    south = city["south"]
    report = make_report(city["asn_a"], south, 9_000, datetime(2026, 3, 4, 3), flagged=True)
    other = db.session.scalar(select(Kelurahan.id).where(Kelurahan.id != south.kelurahan_id))
    db.session.commit()
    flagger, editor = db.engine.connect(), db.engine.connect()
    try:
        flagger.begin()
        flagger.execute(
            text("INSERT INTO report_flags (report_id, rule, detail, created_at) "
                 "VALUES (:r, 'photo', 'x', now())"),
            {"r": report.id},
        )  # fmt: skip
        with editor.begin():
            editor.execute(text("SET LOCAL lock_timeout = '2s'"))
            editor.execute(text("UPDATE stalls SET name = 'Lapak Baru' WHERE id = :s"),
                           {"s": south.id})  # fmt: skip
        with pytest.raises(OperationalError, match="lock timeout"), editor.begin():
            editor.execute(text("SET LOCAL lock_timeout = '300ms'"))
            editor.execute(text("UPDATE stalls SET kelurahan_id = :k WHERE id = :s"),
                           {"k": other, "s": south.id})  # fmt: skip
        flagger.commit()
        with editor.begin():
            editor.execute(text("UPDATE stalls SET kelurahan_id = :k WHERE id = :s"),
                           {"k": other, "s": south.id})  # fmt: skip
    finally:
        flagger.close()
        editor.close()
    _assert_exact(folded_too=True)
