"""Applying an ASN roster: the accounts made, updated and taken off it, and the ASN list.

All or nothing: when any row is bad, nothing changes and every bad row is reported by its
line, because a mistyped NIP would otherwise deactivate the person it belongs to. A good
file creates accounts (with one-time activation codes for OPDs to hand out), updates the
ones it names and takes everyone else off the roster: deactivated, sessions ended, history
kept.
"""

import io
import re
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import func, select

from promkm_qr import audit
from promkm_qr.accounts.activation import issue_code
from promkm_qr.accounts.roster_file import RosterFileError, RosterRow, parse_roster, read_table
from promkm_qr.api import webhooks
from promkm_qr.core.cells import csv_writer
from promkm_qr.core.text import HiddenCharacter, check_text
from promkm_qr.extensions import db
from promkm_qr.models import AsnProfile, Opd, User


@dataclass
class RosterResult:
    """What an import did, or the bad rows that stopped it."""

    errors: list[tuple[int, str]] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    moved: int = 0
    deactivated: int = 0
    new_opds: list[str] = field(default_factory=list)
    codes: list[dict] = field(default_factory=list)


def _opd_for(name: str, opds: dict[str, Opd], result: RosterResult) -> Opd:
    """The OPD named (by code or name, any case), added to the list when new."""
    opd = opds.get(name.lower())
    if opd is None:
        code = re.sub(r"[^A-Z0-9]+", "", name.upper())[:24] or "OPD"
        taken = set(db.session.scalars(select(Opd.code).where(Opd.code.like(f"{code}%"))))
        unique, n = code, 1
        while unique in taken:
            n += 1
            unique = f"{code}{n}"
        opd = Opd(code=unique, name=name)
        db.session.add(opd)
        db.session.flush()
        opds[name.lower()] = opd
        result.new_opds.append(name)
    return opd


def apply_roster(rows: list[RosterRow]) -> RosterResult:
    """Create, update and deactivate accounts so the roster matches rows (caller commits)."""
    result = RosterResult()
    opds = {}
    for opd in db.session.scalars(select(Opd)):
        opds[opd.code.lower()] = opds[opd.name.lower()] = opd
    existing = {
        u.nip: u
        for u in db.session.scalars(select(User).where(User.role == "asn", User.nip.is_not(None)))
    }
    profiles = {p.user_id: p for p in db.session.scalars(select(AsnProfile))}
    # New accounts are flushed together, not one by one: a first roster holds thousands.
    fresh = []
    for row in rows:
        opd = _opd_for(row.opd, opds, result)
        user = existing.get(row.nip)
        if user is None:
            user = User(role="asn", name=row.name, nip=row.nip)
            profile = AsnProfile(user=user)
            db.session.add(profile)
            fresh.append((row, user, opd))
            result.created += 1
        else:
            profile = profiles.get(user.id) or AsnProfile(user_id=user.id)
            db.session.add(profile)
            if profile.opd_id is not None and profile.opd_id != opd.id:
                result.moved += 1
            if not user.active:
                user.active = True
            result.updated += 1
        user.name = row.name
        profile.opd_id, profile.position_class = opd.id, row.position
        profile.golongan, profile.on_roster = row.golongan, True
        if row.tpp is not None:
            profile.tpp_amount = row.tpp
    db.session.flush()
    for row, user, opd in fresh:
        code = issue_code(user)
        result.codes.append({"nip": row.nip, "name": row.name, "opd": opd.name, "code": code})
    listed = {row.nip for row in rows}
    for nip, user in existing.items():
        profile = profiles.get(user.id)
        if nip not in listed and profile is not None and profile.on_roster:
            profile.on_roster = False
            user.active = False
            user.session_version += 1  # signs them out everywhere
            result.deactivated += 1
    db.session.flush()
    return result


def import_roster(filename: str, data: bytes) -> RosterResult:
    """Parse and, when every row is good, apply a roster file (caller commits)."""
    return import_table(read_table(filename, data))


def import_table(table: list[list[str]]) -> RosterResult:
    """Parse and apply a roster table: a file's cells or the API's items (caller commits)."""
    rows, errors = parse_roster(table)
    if errors:
        return RosterResult(errors=errors)
    if not rows:
        raise RosterFileError(_("Tidak ada baris ASN di berkas."))
    result = apply_roster(rows)
    # Counts only: the activation codes go to the staff member who imported, nowhere else.
    webhooks.emit(
        "roster.imported",
        {"created": result.created, "updated": result.updated, "moved": result.moved,
         "deactivated": result.deactivated, "on_roster": roster_count()},
    )  # fmt: skip
    return result


def roster_count() -> int:
    """How many ASN are on the roster now."""
    return db.session.scalar(
        select(func.count()).select_from(AsnProfile).where(AsnProfile.on_roster.is_(True))
    )


def codes_csv(codes: list[dict]) -> bytes:
    """The activation codes of new accounts as a CSV for OPDs to hand out."""
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    writer.writerow(["NIP", "Nama", "OPD", "Kode aktivasi"])
    writer.writerows([c["nip"], c["name"], c["opd"], c["code"]] for c in codes)
    return ("\ufeff" + buffer.getvalue()).encode()


def asn_page(search: str = "", opd_id: int | None = None, page: int = 1, per_page: int = 50):
    """One page of the ASN list (on and off the roster), filtered by name/NIP and OPD."""
    query = (
        select(User, AsnProfile, Opd.name)
        .join(AsnProfile, AsnProfile.user_id == User.id)
        .outerjoin(Opd, Opd.id == AsnProfile.opd_id)
        .where(User.role == "asn")
    )
    if search:
        needle = f"%{search.strip().lower()}%"
        query = query.where(func.lower(User.name).like(needle) | User.nip.like(needle))
    if opd_id:
        query = query.where(AsnProfile.opd_id == opd_id)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.execute(
        query.order_by(AsnProfile.on_roster.desc(), User.name)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return rows, total


def save_opd(opd_id: int | None, code: str, name: str, actor_id: int) -> str | None:
    """Add an OPD or rename one (caller commits); returns an error message or None."""
    code, name = code.strip().upper()[:32], name.strip()[:200]
    if not code or not name:
        return _("Kode dan nama OPD wajib diisi.")
    try:
        check_text(code + name)
    except HiddenCharacter as exc:
        return str(exc)
    clash = db.session.scalar(select(Opd).where(Opd.code == code))
    opd = db.session.get(Opd, opd_id) if opd_id else Opd()
    if opd is None:
        return _("OPD tidak ditemukan.")
    if clash is not None and clash is not opd:
        return _("Kode OPD %(code)s sudah dipakai.", code=code)
    before = {"code": opd.code, "name": opd.name}
    opd.code, opd.name = code, name
    db.session.add(opd)
    db.session.flush()
    audit.record(
        "opd.saved",
        "opd",
        opd.id,
        actor_id=actor_id,
        data={"before": before, "after": {"code": code, "name": name}},
    )
    return None
