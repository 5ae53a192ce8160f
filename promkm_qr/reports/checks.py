"""Run the flagging rules on a batch of reports with a handful of set-based queries.

One report after submission and a month of reports for the bench go through the same code:
load the reports, then in one query the stalls' earlier reports and the ASN's reports around
those days, the category averages only where a rule needs them, and the earlier photos that
could match; apply the pure rules of `promkm_qr.reports.rules`; then replace the rule flags
that changed. Re-running on unchanged data writes nothing and gives the same flags.

The statements are built once, with bound parameters: building them anew for every report
cost more than running them.
"""

from collections import defaultdict
from datetime import timedelta
from functools import cache, partial
from itertools import pairwise

from flask_babel import force_locale
from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.orm import aliased

from promkm_qr import audit
from promkm_qr.extensions import db
from promkm_qr.models import AsnProfile, Evidence, PurchaseReport, ReportFlag, Stall, User
from promkm_qr.reports import rules
from promkm_qr.reports.rules import WIB_OFFSET, Subject

# States whose amounts and hours describe what a stall usually sells.
_HISTORY_STATES = ("submitted", "confirmed", "disputed", "verified")
_PHASH_HEX = 16
_OWNER = aliased(User)
_ASN = aliased(User)
_R = PurchaseReport
_ids = partial(bindparam, expanding=True)  # a list bound to IN (...)


_SUBJECTS = (
    select(
        _R.id,
        _R.asn_id,
        _R.stall_id,
        Stall.category_id,
        _R.amount,
        _R.purchased_at,
        _R.lat,
        _R.lon,
        Stall.lat,
        Stall.lon,
        Evidence.sha256,
        Evidence.original_sha256,
        Evidence.phash,
        Evidence.taken_at,
        AsnProfile.nik,
        _ASN.phone,
        Stall.owner_nik,
        _R.flagged,
        Stall.phone,
        _OWNER.phone,
    )
    .join(Stall, Stall.id == _R.stall_id)
    .join(_ASN, _ASN.id == _R.asn_id)
    .outerjoin(AsnProfile, AsnProfile.user_id == _R.asn_id)
    .outerjoin(_OWNER, _OWNER.id == Stall.owner_id)
    .outerjoin(Evidence, Evidence.id == _R.evidence_id)
    .where(_R.id.in_(_ids("ids")))
)
# The stalls' history and the ASN's days in one query; each row says which it belongs to.
_IN_HISTORY = and_(
    _R.stall_id.in_(_ids("stalls")),
    _R.purchased_at >= bindparam("since"),
    _R.purchased_at <= bindparam("until"),
    _R.state.in_(_HISTORY_STATES),
)
_IN_DAYS = and_(
    _R.asn_id.in_(_ids("asns")),
    _R.purchased_at >= bindparam("days_from"),
    _R.purchased_at <= bindparam("days_to"),
    _R.state != "withdrawn",
)
_NEARBY = select(
    _R.stall_id, _R.asn_id, _R.purchased_at, _R.id, _R.amount, _IN_HISTORY, _IN_DAYS
).where(or_(_IN_HISTORY, _IN_DAYS))
# Amounts at or above the rule's floor are left out: they are the ones under suspicion,
# and a few inflated reports would otherwise lift the average that judges them.
_CATEGORY_AVERAGES = (
    select(Stall.category_id, func.avg(_R.amount))
    .join(Stall, Stall.id == _R.stall_id)
    .where(
        Stall.category_id.in_(_ids("categories")),
        _R.purchased_at >= bindparam("since"),
        _R.purchased_at <= bindparam("until"),
        _R.state.in_(_HISTORY_STATES),
        _R.amount < bindparam("floor"),
    )
    .group_by(Stall.category_id)
)
_STORED_FLAGS = select(ReportFlag.report_id, ReportFlag.rule, ReportFlag.detail).where(
    ReportFlag.report_id.in_(_ids("ids")), ReportFlag.rule.in_(rules.RULES)
)
_DELETE_FLAGS = delete(ReportFlag).where(
    ReportFlag.report_id.in_(_ids("ids")), ReportFlag.rule.in_(rules.RULES)
)
_REFRESH_FLAGGED = (
    update(_R)
    .where(_R.id.in_(_ids("ids")))
    .values(flagged=select(ReportFlag.id).where(ReportFlag.report_id == _R.id).exists())
    .execution_options(synchronize_session=False)
)


def _subjects(report_ids: list[int]) -> tuple[list[Subject], set[int]]:
    """The reports with their stall, photo and ASN facts, and which of them are flagged."""
    rows = db.session.execute(_SUBJECTS, {"ids": report_ids}).all()
    subjects = [Subject(*row[:-3], owner_phones=tuple(p for p in row[-2:] if p)) for row in rows]
    return subjects, {row.id for row in rows if row.flagged}


def _nearby(subjects, since, until) -> tuple[dict[int, list[tuple]], dict[int, list[tuple]]]:
    """Per stall, (purchased_at, id, amount) of its reports in the window; per ASN,
    (purchased_at, id, stall_id) of their reports around the subjects' days."""
    params = {
        "stalls": list({s.stall_id for s in subjects}),
        "since": since,
        "until": until,
        "asns": list({s.asn_id for s in subjects}),
        "days_from": min(s.purchased_at for s in subjects) - timedelta(days=1),
        "days_to": max(s.purchased_at for s in subjects) + timedelta(days=1),
    }
    history, days = defaultdict(list), defaultdict(list)
    for stall_id, asn_id, at, rid, amount, in_history, in_days in db.session.execute(
        _NEARBY, params
    ):
        if in_history:
            history[stall_id].append((at, rid, amount))
        if in_days:
            days[asn_id].append((at, rid, stall_id))
    return history, days


def _category_averages(categories: set, since, until, floor: int) -> dict[int, float]:
    """The average ordinary amount per stall category over the window."""
    if not categories:
        return {}
    rows = db.session.execute(
        _CATEGORY_AVERAGES,
        {"categories": list(categories), "since": since, "until": until, "floor": floor},
    )
    return {category: float(avg) for category, avg in rows}


def _chunks(parts: int) -> list[tuple[int, int]]:
    """(start, length) of `parts` hex slices covering a phash; two hashes within parts-1 bits
    share at least one slice exactly (pigeonhole), so slices find every near match."""
    parts = max(1, min(parts, _PHASH_HEX))
    bounds = [round(i * _PHASH_HEX / parts) for i in range(parts + 1)]
    return [(a, b - a) for a, b in pairwise(bounds)]


@cache
def _photo_query(slices: tuple[tuple[int, int], ...]):
    """Earlier evidence sharing a hash (:hashes) or a phash slice (:slice0...) with a subject."""
    conditions = [Evidence.sha256.in_(_ids("hashes")), Evidence.original_sha256.in_(_ids("hashes"))]
    for n, (start, length) in enumerate(slices):
        conditions.append(func.substr(Evidence.phash, start + 1, length).in_(_ids(f"slice{n}")))
    return (
        select(_R.id, _R.reference, Evidence.sha256, Evidence.original_sha256, Evidence.phash)
        .join(Evidence, Evidence.id == _R.evidence_id)
        .where(
            _R.id < bindparam("before_id"),
            Evidence.created_at >= bindparam("since"),
            or_(*conditions),
        )
    )


def _photo_candidates(subjects, t) -> tuple[dict, list[tuple]]:
    """Earlier reports whose photo could match a subject's, indexed by hash and phash slice."""
    with_photo = [s for s in subjects if s.sha256]
    if not with_photo:
        return {}, []
    slices = _chunks(t["photo_distance"] + 1)
    params = {
        "hashes": list({h for s in with_photo for h in (s.sha256, s.original_sha256) if h}),
        "before_id": max(s.id for s in with_photo),
        "since": min(s.purchased_at for s in with_photo) - timedelta(days=t["photo_days"]),
    }
    for n, (start, length) in enumerate(slices):
        params[f"slice{n}"] = list({s.phash[start : start + length] for s in with_photo if s.phash})
    rows = db.session.execute(_photo_query(tuple(slices)), params).all()
    index = defaultdict(list)
    for row in rows:
        for key in (row.sha256, row.original_sha256):
            index[key].append(row)
        for n, (start, length) in enumerate(slices):
            index[(n, row.phash[start : start + length])].append(row)
    return index, slices


def _earlier_photos(s: Subject, index: dict, slices: list[tuple[int, int]]) -> list[tuple]:
    """Candidates from reports before this one sharing a hash or a phash slice with it."""
    keys = [s.sha256, s.original_sha256]
    if s.phash:
        keys += [(n, s.phash[start : start + length]) for n, (start, length) in enumerate(slices)]
    rows = {row for key in keys if key for row in index.get(key, ()) if row.id < s.id}
    return [tuple(row) for row in sorted(rows)]


def evaluate(subjects: list[Subject], t: dict) -> dict[int, dict[str, str]]:
    """The flags each subject earns: {report_id: {rule: explanation}}."""
    if not subjects:
        return {}
    since = min(s.purchased_at for s in subjects) - timedelta(days=t["history_days"])
    until = max(s.purchased_at for s in subjects)
    history, asn_days = _nearby(subjects, since, until)
    earlier = {
        s.id: [row for row in history[s.stall_id] if (row[0], row[1]) < (s.purchased_at, s.id)]
        for s in subjects
    }
    # The category's average only judges a large amount at a stall with little history.
    averages = _category_averages(
        {
            s.category_id
            for s in subjects
            if s.amount >= t["amount_floor"] and len(earlier[s.id]) < t["amount_min_history"]
        }
        - {None},
        since,
        until,
        t["amount_floor"],
    )
    photo_index, slices = _photo_candidates(subjects, t)
    result = {}
    for s in subjects:
        stall_earlier = earlier[s.id]
        day = (s.purchased_at + WIB_OFFSET).date()
        mine = asn_days[s.asn_id]
        same_day = sum(1 for at, _id, _stall in mine if (at + WIB_OFFSET).date() == day)
        before = [
            (s.purchased_at - at).total_seconds() / 60
            for at, rid, stall in mine
            if stall == s.stall_id and rid != s.id and (at, rid) < (s.purchased_at, s.id)
        ]
        found = {
            "amount": rules.amount_outlier(
                s, [row[2] for row in stall_earlier], averages.get(s.category_id), t
            ),
            "daily_count": rules.too_many_per_day(s, same_day, t),
            "repeat": rules.repeat_at_stall(s, min(before, default=None), t),
            "photo": rules.reused_photo(s, _earlier_photos(s, photo_index, slices), t),
            "distance": rules.far_from_stall(s, t),
            "photo_time": rules.photo_time_mismatch(s, t),
            "hours": rules.unusual_hour(s, [rules.wib_hour(row[0]) for row in stall_earlier], t),
            "own_stall": rules.own_stall(s, t),
        }
        result[s.id] = {rule: text for rule, text in found.items() if text}
    return result


def check_reports(report_ids: list[int], *, actor_id: int | None = None) -> dict:
    """Run every rule on the reports and store what changed; the caller commits."""
    t = rules.thresholds()
    subjects, flagged = _subjects(report_ids)
    # Explanations are stored in the city's language, whoever (a task, a request) runs this.
    with force_locale("id"):
        flags = evaluate(subjects, t)
    # A report not flagged has no flag stored: nothing to read back or to delete.
    stored = defaultdict(dict)
    if flagged:
        for report_id, rule, detail in db.session.execute(_STORED_FLAGS, {"ids": list(flagged)}):
            stored[report_id][rule] = detail
    changed = sorted(rid for rid, found in flags.items() if found != stored.get(rid, {}))
    if changed:
        if stored:
            db.session.execute(_DELETE_FLAGS, {"ids": [rid for rid in changed if rid in stored]})
        rows = [
            {"report_id": rid, "rule": rule, "detail": detail}
            for rid in changed
            for rule, detail in flags[rid].items()
        ]
        if rows:
            db.session.execute(insert(ReportFlag), rows)
        _refresh_flagged(changed)
        audit.record(
            "report.flags",
            "report",
            changed[0] if len(changed) == 1 else None,
            actor_id=actor_id,
            data={str(rid): sorted(flags[rid]) for rid in changed},
        )
    return {
        "checked": len(flags),
        "flagged": sum(1 for found in flags.values() if found),
        "changed": len(changed),
    }


def _refresh_flagged(report_ids: list[int]) -> None:
    """Set each report's `flagged` to whether any flag (a rule's or the sweep's) remains."""
    db.session.execute(_REFRESH_FLAGGED, {"ids": list(report_ids)})
