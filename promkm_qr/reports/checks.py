"""Run the flagging rules on a batch of reports with a handful of set-based queries.

One report after submission and a month of reports for the bench go through the same code:
load the reports, then in one query each the stalls' earlier amounts and hours, the category
averages, the ASN's reports around those days and the earlier photos that could match; apply
the pure rules of `promkm_qr.reports.rules`; then replace the rule flags that changed.
Re-running on unchanged data writes nothing and gives the same flags.
"""

from collections import defaultdict
from datetime import timedelta
from itertools import pairwise

from flask_babel import force_locale
from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.orm import aliased

from promkm_qr import audit
from promkm_qr.extensions import db
from promkm_qr.models import AsnProfile, Evidence, PurchaseReport, ReportFlag, Stall, User
from promkm_qr.reports import rules
from promkm_qr.reports.rules import WIB_OFFSET, Subject

# States whose amounts and hours describe what a stall usually sells.
_HISTORY_STATES = ("submitted", "confirmed", "disputed", "verified")
_PHASH_HEX = 16
# Built once: making an alias costs more than the rest of building the query.
_OWNER = aliased(User)
_ASN = aliased(User)


def _subjects(report_ids: list[int]) -> list[Subject]:
    """The reports with their stall, photo and ASN facts, in one query."""
    owner, asn = _OWNER, _ASN
    r = PurchaseReport
    rows = db.session.execute(
        select(
            r.id,
            r.asn_id,
            r.stall_id,
            Stall.category_id,
            r.amount,
            r.purchased_at,
            r.lat,
            r.lon,
            Stall.lat,
            Stall.lon,
            Evidence.sha256,
            Evidence.original_sha256,
            Evidence.phash,
            Evidence.taken_at,
            AsnProfile.nik,
            asn.phone,
            Stall.owner_nik,
            Stall.phone,
            owner.phone,
        )
        .join(Stall, Stall.id == r.stall_id)
        .join(asn, asn.id == r.asn_id)
        .outerjoin(AsnProfile, AsnProfile.user_id == r.asn_id)
        .outerjoin(owner, owner.id == Stall.owner_id)
        .outerjoin(Evidence, Evidence.id == r.evidence_id)
        .where(r.id.in_(report_ids))
    ).all()
    return [Subject(*row[:-2], owner_phones=tuple(p for p in row[-2:] if p)) for row in rows]


def _stall_history(subjects, since, until) -> dict[int, list[tuple]]:
    """Per stall, (purchased_at, id, amount) of its reports in the window, oldest first."""
    r = PurchaseReport
    rows = db.session.execute(
        select(r.stall_id, r.purchased_at, r.id, r.amount)
        .where(
            r.stall_id.in_({s.stall_id for s in subjects}),
            r.purchased_at >= since,
            r.purchased_at <= until,
            r.state.in_(_HISTORY_STATES),
        )
        .order_by(r.purchased_at, r.id)
    )
    history = defaultdict(list)
    for stall_id, *rest in rows:
        history[stall_id].append(tuple(rest))
    return history


def _category_averages(categories: set, since, until, floor: int) -> dict[int, float]:
    """The average ordinary amount per stall category over the window.

    Amounts at or above the rule's floor are left out: they are the ones under suspicion,
    and a few inflated reports would otherwise lift the average that judges them.
    """
    r = PurchaseReport
    rows = db.session.execute(
        select(Stall.category_id, func.avg(r.amount))
        .join(Stall, Stall.id == r.stall_id)
        .where(
            Stall.category_id.in_(categories),
            r.purchased_at >= since,
            r.purchased_at <= until,
            r.state.in_(_HISTORY_STATES),
            r.amount < floor,
        )
        .group_by(Stall.category_id)
    )
    return {category: float(avg) for category, avg in rows}


def _asn_days(subjects) -> dict[int, list[tuple]]:
    """Per ASN, (purchased_at, id, stall_id) of their reports around the subjects' days."""
    r = PurchaseReport
    rows = db.session.execute(
        select(r.asn_id, r.purchased_at, r.id, r.stall_id).where(
            r.asn_id.in_({s.asn_id for s in subjects}),
            r.purchased_at >= min(s.purchased_at for s in subjects) - timedelta(days=1),
            r.purchased_at <= max(s.purchased_at for s in subjects) + timedelta(days=1),
            r.state != "withdrawn",
        )
    )
    days = defaultdict(list)
    for asn_id, *rest in rows:
        days[asn_id].append(tuple(rest))
    return days


def _chunks(parts: int) -> list[tuple[int, int]]:
    """(start, length) of `parts` hex slices covering a phash; two hashes within parts-1 bits
    share at least one slice exactly (pigeonhole), so slices find every near match."""
    parts = max(1, min(parts, _PHASH_HEX))
    bounds = [round(i * _PHASH_HEX / parts) for i in range(parts + 1)]
    return [(a, b - a) for a, b in pairwise(bounds)]


def _photo_candidates(subjects, t) -> tuple[dict, list[tuple]]:
    """Earlier reports whose photo could match a subject's, indexed by hash and phash slice."""
    with_photo = [s for s in subjects if s.sha256]
    if not with_photo:
        return {}, []
    slices = _chunks(t["photo_distance"] + 1)
    hashes = {h for s in with_photo for h in (s.sha256, s.original_sha256) if h}
    conditions = [Evidence.sha256.in_(hashes), Evidence.original_sha256.in_(hashes)]
    for start, length in slices:
        values = {s.phash[start : start + length] for s in with_photo if s.phash}
        conditions.append(func.substr(Evidence.phash, start + 1, length).in_(values))
    since = min(s.purchased_at for s in with_photo) - timedelta(days=t["photo_days"])
    rows = db.session.execute(
        select(
            PurchaseReport.id,
            PurchaseReport.reference,
            Evidence.sha256,
            Evidence.original_sha256,
            Evidence.phash,
        )
        .join(Evidence, Evidence.id == PurchaseReport.evidence_id)
        .where(
            PurchaseReport.id < max(s.id for s in with_photo),
            Evidence.created_at >= since,
            or_(*conditions),
        )
    ).all()
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
    history = _stall_history(subjects, since, until)
    averages = _category_averages(
        {s.category_id for s in subjects}, since, until, t["amount_floor"]
    )
    asn_days = _asn_days(subjects)
    photo_index, slices = _photo_candidates(subjects, t)
    result = {}
    for s in subjects:
        earlier = [row for row in history[s.stall_id] if (row[0], row[1]) < (s.purchased_at, s.id)]
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
                s, [row[2] for row in earlier], averages.get(s.category_id), t
            ),
            "daily_count": rules.too_many_per_day(s, same_day, t),
            "repeat": rules.repeat_at_stall(s, min(before, default=None), t),
            "photo": rules.reused_photo(s, _earlier_photos(s, photo_index, slices), t),
            "distance": rules.far_from_stall(s, t),
            "photo_time": rules.photo_time_mismatch(s, t),
            "hours": rules.unusual_hour(s, [rules.wib_hour(row[0]) for row in earlier], t),
            "own_stall": rules.own_stall(s, t),
        }
        result[s.id] = {rule: text for rule, text in found.items() if text}
    return result


def check_reports(report_ids: list[int], *, actor_id: int | None = None) -> dict:
    """Run every rule on the reports and store what changed; the caller commits."""
    t = rules.thresholds()
    # Explanations are stored in the city's language, whoever (a task, a request) runs this.
    with force_locale("id"):
        flags = evaluate(_subjects(report_ids), t)
    stored = defaultdict(dict)
    for report_id, rule, detail in db.session.execute(
        select(ReportFlag.report_id, ReportFlag.rule, ReportFlag.detail).where(
            ReportFlag.report_id.in_(flags), ReportFlag.rule.in_(rules.RULES)
        )
    ):
        stored[report_id][rule] = detail
    changed = sorted(rid for rid, found in flags.items() if found != stored.get(rid, {}))
    if changed:
        db.session.execute(
            delete(ReportFlag).where(
                ReportFlag.report_id.in_(changed), ReportFlag.rule.in_(rules.RULES)
            )
        )
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
    has_flag = select(ReportFlag.id).where(ReportFlag.report_id == PurchaseReport.id).exists()
    db.session.execute(
        update(PurchaseReport)
        .where(PurchaseReport.id.in_(report_ids))
        .values(flagged=has_flag)
        .execution_options(synchronize_session=False)
    )
