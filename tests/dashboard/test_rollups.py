"""The rollups stay exact through every kind of change, folded or not, and fold idempotently."""

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import or_, select, text
from sqlalchemy.exc import OperationalError

from promkm_qr import outbox
from promkm_qr.dashboard import compliance, queries, rollups
from promkm_qr.dashboard.filters import Filters
from promkm_qr.extensions import db
from promkm_qr.models import Category, Kecamatan, Kelurahan, User
from promkm_qr.reports import amend, review
from promkm_qr.reports.submit import Submission, submit
from promkm_qr.stalls.registry import update_stall
from tests.factories import make_staff

COUNTED = ("submitted", "confirmed", "verified")


def _direct(f: Filters) -> dict:
    """Every panel's numbers computed in Python from plain SQL rows of the reports."""
    lower, upper = f.utc_bounds
    rows = db.session.execute(
        text(
            "SELECT r.purchased_at, r.amount, r.state, s.code, s.status, l.name, "
            "coalesce(c.name, '-'), r.asn_id, o.name, s.kelurahan_id "
            "FROM purchase_reports r JOIN stalls s ON s.id = r.stall_id "
            "JOIN kelurahan l ON l.id = s.kelurahan_id "
            "LEFT JOIN categories c ON c.id = s.category_id LEFT JOIN opd o ON o.id = r.opd_id "
            "WHERE r.purchased_at >= :lo AND r.purchased_at < :hi"
        ),
        {"lo": lower, "hi": upper},
    ).all()
    if f.kelurahan_ids is not None:
        rows = [r for r in rows if r[9] in f.kelurahan_ids]
    out = defaultdict(Counter)
    opd_asn = defaultdict(set)
    for at, amount, state, code, _status, kel, cat, asn, opd, _ in rows:
        at = datetime.fromisoformat(at) if isinstance(at, str) else at
        out["state"][state] += amount
        out["state_n"][state] += 1
        if state not in COUNTED:
            continue
        out["kel"][kel] += amount
        out["kel_n"][kel] += 1
        out["cat_n"][cat] += 1
        out["cat"][cat] += amount
        out["day"][(at + timedelta(hours=7)).date().isoformat()] += amount
        out["stall"][code] += amount
        out["stall_n"][code] += 1
        out["asn"][asn] += amount
        if opd:
            out["opd"][opd] += amount
            out["opd_n"][opd] += 1
            opd_asn[opd].add(asn)
    out["opd_asn"] = Counter({opd: len(ids) for opd, ids in opd_asn.items()})
    active = db.session.execute(
        text("SELECT code, kelurahan_id FROM stalls WHERE status = 'active'")
    ).all()
    out["idle"] = {
        code
        for code, kel in active
        if code not in out["stall"] and (f.kelurahan_ids is None or kel in f.kelurahan_ids)
    }
    return out


def assert_panels_match(f: Filters) -> None:
    """Each dashboard panel equals the direct sums for the filters."""
    want = _direct(f)
    totals = queries.totals(f)
    assert totals["amount"] == sum(want["state"][s] for s in COUNTED)
    assert totals["count"] == sum(want["state_n"][s] for s in COUNTED)
    assert totals["confirmed_amount"] == want["state"]["confirmed"]
    assert totals["verified_count"] == want["state_n"]["verified"]
    assert {r["label"]: r["amount"] for r in queries.by_kelurahan(f) if r["amount"]} == want["kel"]
    assert {r["label"]: r["amount"] for r in queries.by_category(f)} == want["cat"]
    assert {r["label"]: r["count"] for r in queries.by_category(f)} == want["cat_n"]
    assert {r["label"]: r["count"] for r in queries.by_kelurahan(f) if r["count"]} == want["kel_n"]
    assert {r["label"]: r["amount"] for r in queries.by_day(f) if r["amount"]} == want["day"]
    top = queries.stall_panels(f, top=100)[0]
    assert {r["code"]: r["amount"] for r in top} == want["stall"]
    assert {r["code"]: r["count"] for r in top} == want["stall_n"]
    opd = [r for r in queries.by_opd(f) if r["count"]]
    assert {r["label"]: r["amount"] for r in opd} == want["opd"]
    assert {r["label"]: r["count"] for r in opd} == want["opd_n"]
    assert {r["label"]: r["asn_reporting"] for r in opd} == want["opd_asn"]
    # Quota spend is city-wide whatever area is in view.
    city = _direct(Filters(f.start, f.end))
    nip_of = dict(db.session.execute(select(User.nip, User.id)).all())
    spend = {nip_of[r["nip"]]: r["amount"] for r in compliance.asn_compliance(f) if r["amount"]}
    assert spend == city["asn"]
    idle = queries.stall_panels(f)[1]
    assert idle["count"] == len(want["idle"]) and [s["code"] for s in idle["stalls"]] == sorted(
        want["idle"]
    )


def _views(city) -> list[Filters]:
    """March city-wide, March in kecamatan Taman, and a period that is not whole months."""
    taman = db.session.scalars(
        select(Kelurahan.id).join(Kecamatan).where(Kecamatan.name == "Taman")
    ).all()
    return [
        Filters(date(2026, 3, 1), date(2026, 3, 31)),
        Filters(date(2026, 3, 1), date(2026, 3, 31), tuple(sorted(taman)), True),
        Filters(date(2026, 2, 1), date(2026, 4, 30)),
        Filters(date(2026, 3, 5), date(2026, 3, 20)),
        Filters(date(2026, 3, 5), date(2026, 3, 20), tuple(sorted(taman)), True),
    ]


@pytest.fixture
def unsent_outbox(monkeypatch):
    """Keep the outbox's messages in the database instead of sending them to the broker.

    A test session may have a live worker: it would run the rules on the submitted report
    while the test folds, and the flags it writes add a delta between two folds.
    """
    monkeypatch.setattr(outbox, "send_pending", lambda messages: None)


def _change_everything(city) -> None:
    """A submission, a confirmation, an edit moving a report to another day, a dinas decision
    and a stall changing category: the write paths of the app, each in its own transaction."""
    north, south = city["north"], city["south"]
    new_id = submit(
        Submission(
            asn_id=city["asn_b"].id, stall_id=north.id, form_key="k-rollup-1", amount=42_000,
            goods_category="makanan", description="", payment_method="tunai",
            purchased_at=datetime(2026, 3, 12, 5, 0),
        )
    ).report_id  # fmt: skip
    review.confirm([new_id], north.owner_id)
    fifteen = next(r for r in city["reports"] if r.amount == 15_000)
    amend.edit_report(
        fifteen.id,
        city["asn_a"].id,
        {"amount": 17_500, "purchased_at": datetime(2026, 3, 19, 18, 0)},
    )
    flagged = next(r for r in city["reports"] if r.amount == 70_000)
    review.decide([flagged.id], make_staff("reviewer"), "rejected", "foto dipakai ulang")
    other = db.session.scalar(select(Category).where(Category.slug != "kuliner"))
    update_stall(south, {"category_id": other.id}, actor_id=None)
    db.session.commit()


def test_panels_equal_direct_sums_before_between_and_after_folds(app, city, unsent_outbox):
    views = _views(city)
    for f in views:  # everything pending
        assert_panels_match(f)
    rollups.fold()
    _change_everything(city)
    assert db.session.scalar(text("SELECT count(*) FROM rollup_deltas")) > 0
    for f in views:  # folded history plus pending changes
        assert_panels_match(f)
    assert rollups.fold() > 0
    assert db.session.scalar(text("SELECT count(*) FROM rollup_deltas")) == 0
    for f in views:  # all folded
        assert_panels_match(f)
    # A rejected report left the counted totals; the moved one counts on its new day.
    march = queries.by_day(views[0])
    assert {r["label"]: r["amount"] for r in march}["2026-03-20"] == 17_500


def _stored() -> dict:
    """Every rollup's rows, without those a fold left at zero (a rebuild writes none)."""
    stored = {}
    for rollup in rollups.ROLLUPS:
        counts = [c for c in rollup.table.c if c.name.startswith("count_")]
        rows = db.session.execute(select(rollup.table).where(or_(*(c != 0 for c in counts))))
        stored[rollup.table.name] = sorted(tuple(row) for row in rows)
    return stored


def test_fold_is_idempotent_and_equals_a_rebuild(app, city, unsent_outbox):
    _change_everything(city)
    assert rollups.fold() > 0
    db.session.commit()
    folded = _stored()
    assert folded["rollup_stall_months"]
    assert rollups.fold() == 0
    db.session.commit()
    assert _stored() == folded
    rollups.rebuild()
    db.session.commit()
    assert _stored() == folded


def test_the_fold_task_runs_on_a_worker(app, city, worker):
    from promkm_qr.tasks.dashboard import fold_rollups

    pending = db.session.scalar(
        text("SELECT (SELECT count(*) FROM rollup_deltas) + (SELECT count(*) FROM review_deltas)")
    )
    db.session.commit()
    # At least: the shared worker may write a delta of its own meanwhile (a rule's flag).
    assert fold_rollups.delay().get(timeout=60) >= pending > 0
    assert_panels_match(_views(city)[0])


@pytest.mark.parametrize("months", [1, 2])
def test_whole_months_use_the_rollup_grain(months):
    end = date(2026, 3, 31) if months == 1 else date(2026, 4, 30)
    assert Filters(date(2026, 3, 1), end).whole_months
    assert not Filters(date(2026, 3, 2), end).whole_months
    assert not Filters(date(2026, 3, 1), end - timedelta(days=1)).whole_months


def test_the_commands_fold_and_rebuild(app, city):
    runner = app.test_cli_runner()
    db.session.commit()
    result = runner.invoke(args=["rollups", "fold"])
    # 8 report deltas, and the flagged and the disputed report entering the review queue.
    assert result.exit_code == 0 and "folded 10 delta rows" in result.output
    result = runner.invoke(args=["rollups", "rebuild"])
    assert result.exit_code == 0
    assert_panels_match(_views(city)[0])


@pytest.mark.parametrize("folded", [False, True], ids=["pending", "folded"])
def test_public_statistics_equal_direct_sums(app, city, monkeypatch, folded, unsent_outbox):
    from promkm_qr.dashboard import public

    monkeypatch.setattr(public, "recent_months", lambda count: ["2026-02", "2026-03"])
    _change_everything(city)
    if folded:
        rollups.fold()
    shown = public.city_totals()
    for month, (count, amount) in zip(("2026-02", "2026-03"), shown["totals"], strict=True):
        first = date.fromisoformat(month + "-01")
        last = (first + timedelta(days=31)).replace(day=1) - timedelta(days=1)
        want = _direct(Filters(first, last))
        assert amount == sum(want["state"][s] for s in COUNTED) > 0
        assert count == sum(want["state_n"][s] for s in COUNTED)
    by_kel = {r["kelurahan"]: r["months"][1][1] for r in shown["rows"] if r["months"][1][1]}
    assert by_kel == _direct(Filters(date(2026, 3, 1), date(2026, 3, 31)))["kel"]


def test_stall_edits_do_not_wait_for_report_writers_but_moves_do(app, city):
    """PostgreSQL: a report's state change holds its stall FOR KEY SHARE only, so an ordinary
    stall edit goes through (no deadlock with the audit lock), while a move to another
    category waits for it and then moves the changed report too."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    report_id, stall_id = db.session.execute(
        text("SELECT id, stall_id FROM purchase_reports WHERE state = 'submitted' LIMIT 1")
    ).one()
    category = db.session.scalar(
        select(Category.id).where(
            Category.id
            != db.session.scalar(
                text("SELECT category_id FROM stalls WHERE id = :s"), {"s": stall_id}
            )
        )
    )
    db.session.commit()
    writer, editor = db.engine.connect(), db.engine.connect()
    try:
        writer.begin()
        writer.execute(text("UPDATE purchase_reports SET state = 'confirmed' WHERE id = :r"),
                       {"r": report_id})  # fmt: skip
        with editor.begin():
            editor.execute(text("SET LOCAL lock_timeout = '2s'"))
            editor.execute(text("UPDATE stalls SET name = 'Lapak Baru' WHERE id = :s"),
                           {"s": stall_id})  # fmt: skip
        with pytest.raises(OperationalError, match="lock timeout"), editor.begin():
            editor.execute(text("SET LOCAL lock_timeout = '300ms'"))
            editor.execute(text("UPDATE stalls SET category_id = :c WHERE id = :s"),
                           {"c": category, "s": stall_id})  # fmt: skip
        writer.commit()
        with editor.begin():
            editor.execute(text("UPDATE stalls SET category_id = :c WHERE id = :s"),
                           {"c": category, "s": stall_id})  # fmt: skip
    finally:
        writer.close()
        editor.close()
    for f in _views(city):
        assert_panels_match(f)
    rollups.fold()
    db.session.commit()
    for f in _views(city):
        assert_panels_match(f)
