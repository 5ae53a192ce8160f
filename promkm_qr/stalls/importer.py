"""Bulk import of stalls from the spreadsheets dinas keep (CSV or XLSX).

Columns are found by header name, Indonesian or English ("Nama Usaha", "NIK Pemilik",
"No. HP", ...). Each row is validated like the stall form; good rows are created or updated
and bad rows are listed with their line number and reason in a CSV the job offers for
download.

Which stall a row means (so re-importing the same file changes nothing):
1. a "kode lapak" column names the stall by its code (an unknown code is an error);
2. otherwise a NIB names the stall registered with that NIB;
3. otherwise the owner's NIK plus the business name (case and spacing ignored) within the
   kelurahan; a row that matches nothing is a new stall.
"""

import io

from flask_babel import gettext as _
from sqlalchemy import insert, select, update

from promkm_qr import audit
from promkm_qr.core.cells import csv_writer
from promkm_qr.core.stall_code import make_stall_code, normalize_kelurahan_code
from promkm_qr.core.text import HiddenCharacter, check_text
from promkm_qr.core.xlsx import Formula, formula_refused
from promkm_qr.extensions import db
from promkm_qr.models import Category, Job, Kelurahan, Stall, User
from promkm_qr.models.base import utcnow
from promkm_qr.stalls.registry import StallInvalid, clean
from promkm_qr.stalls.spreadsheet import map_header, read_rows
from promkm_qr.storage import get_storage

FIELDS = ("name", "category_id", "address", "lat", "lon", "nib", "owner_nik", "phone")
PROGRESS_EVERY = 1000


class _Lookup:
    """Everything a row is matched against, loaded once per import."""

    def __init__(self):
        self.kelurahan = {}
        for kel in db.session.scalars(select(Kelurahan)):
            self.kelurahan[kel.name.lower()] = kel
            self.kelurahan[kel.code_digits] = kel
        self.categories = {}
        for cat in db.session.scalars(select(Category)):
            self.categories[cat.slug] = self.categories[cat.name.lower()] = cat.id
        self.stalls = {}
        self.by_code, self.by_nib, self.by_owner, self.nmids = {}, {}, {}, {}
        self.serials: dict[int, int] = {}
        columns = [
            getattr(Stall, f)
            for f in ("id", "code", "kelurahan_id", "serial", "qris_nmid", *FIELDS)
        ]
        for row in db.session.execute(select(*columns)):
            self.remember(dict(row._mapping))
        self.new_owners: dict[str, str] = {}
        self.phones = dict(
            db.session.execute(select(User.phone, User.id).where(User.phone.is_not(None))).all()
        )

    def remember(self, stall: dict) -> None:
        """Index a stall (existing or just created) by every key a row can match on."""
        self.stalls[stall["id"]] = stall
        self.by_code[stall["code"]] = stall["id"]
        if stall["nib"]:
            self.by_nib[stall["nib"]] = stall["id"]
        if stall["owner_nik"]:
            self.by_owner[(stall["owner_nik"], stall["name"].lower(), stall["kelurahan_id"])] = (
                stall["id"]
            )
        if stall["qris_nmid"]:
            self.nmids[stall["qris_nmid"]] = stall["id"]
        self.serials[stall["kelurahan_id"]] = max(
            self.serials.get(stall["kelurahan_id"], 0), stall["serial"]
        )

    def kelurahan_of(self, text: str):
        """The kelurahan a cell names by name or code."""
        try:
            return self.kelurahan.get(normalize_kelurahan_code(text))
        except ValueError:
            return self.kelurahan.get(" ".join(text.split()).lower())


def _values(cells: dict, lookup: _Lookup) -> dict:
    """Validate one row's cells into stall values, raising StallInvalid."""
    for field, text in cells.items():
        # Every cell, also those clean() does not see (the owner's name, the category).
        try:
            check_text(text)
        except HiddenCharacter as exc:
            raise StallInvalid({field: str(exc)}) from exc
    kel = lookup.kelurahan_of(cells.get("kelurahan", ""))
    category = cells.get("category", "").strip().lower() or "lainnya"
    data = {
        **cells,
        "kelurahan_id": kel.id if kel else None,
        "category_id": lookup.categories.get(category),
    }
    values = clean(data)
    if values["category_id"] is None:
        raise StallInvalid({"category": _("Kategori %(name)s tidak dikenal.", name=category)})
    return values


def _match(cells: dict, values: dict, lookup: _Lookup) -> int | None:
    """The id of the stall a row updates, None for a new stall (see the module docstring)."""
    code = cells.get("code", "")
    if code:
        if code not in lookup.by_code:
            raise StallInvalid({"code": _("Kode lapak %(code)s tidak terdaftar.", code=code)})
        return lookup.by_code[code]
    if values["nib"] and values["nib"] in lookup.by_nib:
        return lookup.by_nib[values["nib"]]
    return lookup.by_owner.get(
        (values["owner_nik"], values["name"].lower(), values["kelurahan_id"])
    )


def run_job(job: Job) -> None:
    """Import the job's uploaded file, with progress, and store the report of bad rows."""
    storage = get_storage()
    rows = read_rows(storage.get(job.params["upload_key"]), job.params["filename"])
    _number, header = next(rows)
    rows = [(n, r) for n, r in rows if any(r)]
    job.total = len(rows)

    def progress(done: int) -> None:
        job.done = done
        db.session.commit()

    errors, counts, _codes = upsert_rows(header, rows, progress)
    _finish(job, errors, counts)


def upsert_rows(header: list, rows: list, progress=None) -> tuple[list, dict, dict]:
    """Create or update the stalls of rows (number, cells), a file's or the API's.

    Returns the bad rows as (number, field, message), the counts, and the stall code of
    each good row by its number. Good rows are written (flushed) even when others are bad:
    the file import keeps them, the API rolls back. `progress(done)` may commit midway.
    """
    columns = map_header(header)
    lookup = _Lookup()
    errors: list[tuple[int, str, str]] = []
    seen: dict[int, int] = {}
    codes: dict[int, str] = {}
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    new_rows, changes, now = [], [], utcnow()
    for position, (number, row) in enumerate(rows, start=1):
        cells = {field: row[i] if i < len(row) else "" for field, i in columns.items()}
        formulas = [
            (number, field, formula_refused(columns[field], header[columns[field]]))
            for field, text in cells.items()
            if isinstance(text, Formula)
        ]
        if formulas:
            errors += formulas
            continue
        try:
            values = _values(cells, lookup)
            stall_id = _match(cells, values, lookup)
            if stall_id is not None and stall_id in seen:
                raise StallInvalid(
                    {"name": _("Lapak yang sama dengan baris %(n)s.", n=seen[stall_id])}
                )
            nmid = values.pop("qris_nmid", None)
            payload = values.pop("qris_payload", None)
            if nmid and lookup.nmids.get(nmid, stall_id) != stall_id:
                raise StallInvalid(
                    {"qris_payload": _("NMID %(nmid)s sudah dipakai lapak lain.", nmid=nmid)}
                )
        except StallInvalid as exc:
            for field, message in exc.errors.items():
                errors.append((number, field, message))
            continue
        values["phone"] = values["phone"] or None
        if stall_id is None:
            stall_id = _create(values, nmid, payload, cells, lookup, new_rows, now)
            counts["created"] += 1
        else:
            current = lookup.stalls[stall_id]
            diff = {k: values[k] for k in FIELDS if current[k] != values[k]}
            if nmid and current["qris_nmid"] != nmid:
                diff.update(qris_nmid=nmid, qris_payload=payload)
            if diff:
                changes.append({"id": stall_id, **diff, "updated_at": now})
                current.update(diff)
                counts["updated"] += 1
            else:
                counts["unchanged"] += 1
        seen[stall_id] = number
        codes[number] = lookup.stalls[stall_id]["code"]
        if position % PROGRESS_EVERY == 0:
            _flush(new_rows, changes, lookup)
            if progress is not None:
                progress(position)
    _flush(new_rows, changes, lookup)
    return errors, counts, codes


def _create(values, nmid, payload, cells, lookup: _Lookup, new_rows: list, now) -> int:
    """Queue a new stall row with the next code of its kelurahan; returns a provisional id."""
    kel_id = values["kelurahan_id"]
    serial = lookup.serials[kel_id] = lookup.serials.get(kel_id, 0) + 1
    kel = db.session.get(Kelurahan, kel_id)
    owner_id = lookup.phones.get(values["phone"]) if values["phone"] else None
    if values["phone"] and owner_id is None:
        # A merchant account without a password, created in bulk by _flush.
        name = cells.get("owner_name") or values["name"]
        lookup.new_owners.setdefault(values["phone"], name[:200])
    row = {
        **values,
        "code": make_stall_code(kel.code, serial),
        "serial": serial,
        "owner_id": owner_id,
        "qris_nmid": nmid,
        "qris_payload": payload,
        "status": "active",
        "poster_version": 1,
        "created_at": now,
        "updated_at": now,
    }
    new_rows.append(row)
    # Negative ids stand for rows not inserted yet; only duplicate detection uses them.
    provisional = -len(lookup.stalls) - 1
    lookup.remember({**row, "id": provisional})
    return provisional


def _flush(new_rows: list, changes: list, lookup: _Lookup) -> None:
    """Write the queued owner accounts, stall inserts and updates in bulk."""
    if lookup.new_owners:
        phones = list(lookup.new_owners)
        db.session.execute(
            insert(User),
            [{"role": "merchant", "name": lookup.new_owners[p], "phone": p} for p in phones],
        )
        lookup.phones.update(
            db.session.execute(select(User.phone, User.id).where(User.phone.in_(phones))).all()
        )
        lookup.new_owners.clear()
    for row in new_rows:
        if row["owner_id"] is None and row["phone"]:
            row["owner_id"] = lookup.phones[row["phone"]]
    if new_rows:
        db.session.execute(insert(Stall), new_rows)
        new_rows.clear()
    if changes:
        db.session.execute(update(Stall), changes)
        changes.clear()


def _finish(job: Job, errors: list, counts: dict) -> None:
    """Store the error report (if any), record the import in the audit trail, end the job."""
    from promkm_qr.jobs import finish_job

    job.done, job.failed = job.total, len({line for line, _f, _m in errors})
    if errors:
        out = io.StringIO()
        writer = csv_writer(out)
        writer.writerow(["baris", "kolom", "alasan"])
        writer.writerows(errors)
        key = f"jobs/{job.id}/kesalahan-impor.csv"
        get_storage().put(key, out.getvalue().encode("utf-8-sig"))
        job.result_key = key
    job.params = {**job.params, "counts": counts}
    audit.record(
        "stall.imported",
        "job",
        job.id,
        actor_id=job.created_by_id,
        data={**counts, "failed": job.failed},
    )
    finish_job(job)
    db.session.commit()
