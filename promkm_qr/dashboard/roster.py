"""ASN roster import from the BKPSDM export (CSV or XLSX).

All or nothing: when any row is bad, nothing changes and every bad row is reported by its
line, because a mistyped NIP would otherwise deactivate the person it belongs to. A good
file creates accounts (with one-time activation codes for OPDs to hand out), updates the
ones it names and takes everyone else off the roster: deactivated, sessions ended, history
kept.
"""

import csv
import io
import re
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import func, select

from promkm_qr import audit
from promkm_qr.auth.activation import issue_code
from promkm_qr.core.cells import csv_writer
from promkm_qr.core.money import parse_rupiah
from promkm_qr.core.nip import InvalidNip, parse_nip
from promkm_qr.core.text import HiddenCharacter, check_text
from promkm_qr.core.xlsx import Formula, column_label, formula_refused, sheet_rows
from promkm_qr.extensions import db
from promkm_qr.models import AsnProfile, Opd, QuotaRule, User

# Column names as BKPSDM exports write them, and the English ones, mapped to our fields.
HEADERS = {
    "nip": "nip",
    "nama": "name",
    "name": "name",
    "opd": "opd",
    "unit kerja": "opd",
    "kelas jabatan": "position",
    "jabatan": "position",
    "position class": "position",
    "golongan": "golongan",
    "tpp": "tpp",
}
REQUIRED = ("nip", "name", "opd", "position")


class RosterFileError(ValueError):
    """The file cannot be read as a roster at all (wrong type, missing columns, empty)."""


class ExcelNumber(str):
    """Text of an XLSX cell that Excel stored as a number (an 18-digit NIP loses digits)."""


@dataclass
class RosterRow:
    """One valid roster line."""

    line: int
    nip: str
    name: str
    opd: str
    position: str
    golongan: str | None
    tpp: int | None


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


def read_table(filename: str, data: bytes) -> list[list[str]]:
    """The rows of an uploaded CSV (comma or semicolon) or XLSX file as text cells."""
    if not data:  # before the reader takes an empty XLSX for a broken one
        raise RosterFileError(_("Berkas kosong."))
    if filename.lower().endswith(".xlsx"):
        try:
            rows = list(sheet_rows(data, active=True))
        except Exception as exc:  # openpyxl raises many types for a broken file
            raise RosterFileError(_("Berkas XLSX tidak dapat dibaca.")) from exc
        # A Formula stays one, so parse_roster can refuse it by line and column.
        return [[v if isinstance(v, Formula) else _cell_text(v) for v in row] for row in rows]
    if not filename.lower().endswith(".csv"):
        raise RosterFileError(_("Unggah berkas CSV atau XLSX."))
    text = data.decode("utf-8-sig", errors="replace")
    # The delimiter is whichever of ";" and "," the header line uses more. csv.Sniffer is not
    # used: it takes the apostrophe of names like Ma'ruf for a quote character, and gives up
    # with an exception on files it cannot guess.
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise RosterFileError(_("Berkas CSV tidak dapat dibaca.")) from exc


def _cell_text(value) -> str:
    """An XLSX cell as text, numbers marked as such."""
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return ExcelNumber(value)
    return str(value)


def _position_slug(text: str) -> str:
    """ "Eselon IV" -> "eselon-iv", the key of the quota rules."""
    return re.sub(r"[^a-z0-9]+", "-", text.strip().lower()).strip("-")


def _refused_cells(header: list[str], cells: list[str], columns: dict) -> str | None:
    """One message naming each formula or text with hidden characters in the columns read."""
    messages = []
    for i, text in enumerate(cells):
        if not columns.get(i):
            continue
        if isinstance(text, Formula):
            messages.append(formula_refused(i, header[i]))
            continue
        try:
            check_text(text)
        except HiddenCharacter as exc:
            messages.append(
                _("Kolom %(column)s: %(message)s", column=column_label(i, header[i]), message=exc)
            )
    return " ".join(messages) or None


def parse_roster(table: list[list[str]]) -> tuple[list[RosterRow], list[tuple[int, str]]]:
    """Valid rows and (line, message) for each bad one; line 1 is the header."""
    if not table:
        raise RosterFileError(_("Berkas kosong."))
    columns = {i: HEADERS.get(h.strip().lower()) for i, h in enumerate(table[0])}
    missing = [c for c in REQUIRED if c not in columns.values()]
    if missing:
        raise RosterFileError(_("Kolom wajib tidak ada: %(cols)s.", cols=", ".join(missing)))
    positions = set(db.session.scalars(select(QuotaRule.position_class)))
    rows, errors, seen = [], [], {}
    for line, cells in enumerate(table[1:], start=2):
        refused = _refused_cells(table[0], cells, columns)
        if refused:
            errors.append((line, refused))
            continue
        values = {columns[i]: c.strip() for i, c in enumerate(cells) if columns.get(i)}
        if not any(values.values()):
            continue
        nip_cell = _nip_cell(cells, columns)
        if isinstance(nip_cell, ExcelNumber):
            # Excel keeps 15 significant digits, so the NIP's last digits are already lost.
            message = _(
                "NIP tersimpan sebagai angka oleh Excel, sehingga digit terakhirnya hilang "
                "(%(v)s). Format kolom NIP sebagai Teks, ketik ulang NIP-nya, lalu unggah lagi.",
                v=nip_cell,
            )
            errors.append((line, message))
            continue
        try:
            nip = parse_nip(values.get("nip", "")).digits
        except InvalidNip as exc:
            errors.append((line, _("NIP tidak sah: %(msg)s", msg=str(exc))))
            continue
        if nip in seen:
            errors.append((line, _("NIP sama dengan baris %(line)s.", line=seen[nip])))
            continue
        seen[nip] = line
        position = _position_slug(values.get("position", ""))
        problem = None
        if not values.get("name"):
            problem = _("Nama wajib diisi.")
        elif not values.get("opd"):
            problem = _("OPD wajib diisi.")
        elif position not in positions:
            problem = _("Kelas jabatan tidak dikenal: %(p)s.", p=values.get("position", ""))
        tpp = None
        if values.get("tpp") and problem is None:
            try:
                tpp = parse_rupiah(values["tpp"].removesuffix(".0"))
            except ValueError as exc:
                problem = _("TPP tidak sah: %(msg)s", msg=str(exc))
        if problem:
            errors.append((line, problem))
            continue
        rows.append(
            RosterRow(
                line,
                nip,
                values["name"],
                values["opd"],
                position,
                values.get("golongan") or None,
                tpp,
            )
        )
    return rows, errors


def _nip_cell(cells: list[str], columns: dict) -> str | None:
    """The raw NIP cell of a row, before stripping (which would drop the number mark)."""
    return next((c for i, c in enumerate(cells) if columns.get(i) == "nip"), None)


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
    rows, errors = parse_roster(read_table(filename, data))
    if errors:
        return RosterResult(errors=errors)
    if not rows:
        raise RosterFileError(_("Tidak ada baris ASN di berkas."))
    return apply_roster(rows)


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
