"""The write scopes' services: stall upserts and the roster, through the file imports' own.

Items become the rows of a table with the import's column names, so the imports' rules
(validation, matching, the roster's new/changed/removed) apply unchanged. All or nothing:
when any item is refused, the session is rolled back and every refusal is named by its item
index (0-based) and, where the rule says, its field.
"""

from sqlalchemy import select

from promkm_qr import audit
from promkm_qr.accounts import roster
from promkm_qr.accounts.roster_file import RosterFileError
from promkm_qr.extensions import db
from promkm_qr.models import Stall, User
from promkm_qr.stalls.importer import upsert_rows
from promkm_qr.stalls.spreadsheet import COLUMNS

STALL_FIELDS = tuple(COLUMNS)  # the API's item fields are the import's field names
STALL_HEADER = [COLUMNS[field][0] for field in STALL_FIELDS]
# The stall rules name two fields by their column in the table of stalls.
_ITEM_FIELD = {"kelurahan_id": "kelurahan", "category_id": "category"}
ROSTER_HEADER = ["nip", "nama", "opd", "kelas jabatan", "golongan", "tpp"]


class ItemsRefused(ValueError):
    """Items the import's rules refuse: index -> field -> messages (or index -> messages)."""

    def __init__(self, errors: dict, detail: str | None = None):
        super().__init__(detail or "refused")
        self.errors, self.detail = errors, detail


def _cell(value) -> str:
    return "" if value is None else str(value)


def upsert_stalls(items: list[dict], client_id: int) -> dict:
    """Create or update every stall of items, or none (commits)."""
    rows = [(i, [_cell(item.get(f)) for f in STALL_FIELDS]) for i, item in enumerate(items)]
    errors, counts, codes = upsert_rows(STALL_HEADER, rows)
    if errors:
        db.session.rollback()
        refused: dict = {}
        for index, field, message in errors:
            by_field = refused.setdefault(str(index), {})
            by_field.setdefault(_ITEM_FIELD.get(field, field), []).append(message)
        raise ItemsRefused(refused)
    ordered = [codes[i] for i in range(len(items))]
    ids = db.session.scalars(select(Stall.id).where(Stall.code.in_(ordered)))
    audit.record(
        "api.stalls_upserted",
        "api_client",
        client_id,
        data={**counts, "stall_ids": sorted(ids)},
    )
    db.session.commit()
    return {**counts, "codes": ordered}


def apply_roster(items: list[dict], client_id: int) -> dict:
    """Make the roster the items (new, changed, taken off), or change nothing (commits).

    The activation codes of new accounts are in the answer only: not in the audit entry,
    not in the roster.imported event, not stored for a later download.
    """
    table = [ROSTER_HEADER] + [
        [item["nip"], item["name"], item["opd"], item["position"],
         _cell(item.get("golongan")), _cell(item.get("tpp"))]
        for item in items
    ]  # fmt: skip
    try:
        result = roster.import_table(table)
    except RosterFileError as exc:  # not one ASN row
        db.session.rollback()
        raise ItemsRefused({}, str(exc)) from exc
    if result.errors:
        db.session.rollback()
        refused: dict = {}
        for line, message in result.errors:  # line 1 is the header
            refused.setdefault(str(line - 2), []).append(message)
        raise ItemsRefused(refused)
    nips = [c["nip"] for c in result.codes]
    created_ids = db.session.scalars(select(User.id).where(User.nip.in_(nips))) if nips else []
    counts = {
        "created": result.created,
        "updated": result.updated,
        "moved": result.moved,
        "deactivated": result.deactivated,
    }
    audit.record(
        "api.roster_applied",
        "api_client",
        client_id,
        data={**counts, "created_user_ids": sorted(created_ids)},
    )
    on_roster = roster.roster_count()
    db.session.commit()
    return {**counts, "on_roster": on_roster, "new_opds": result.new_opds, "codes": result.codes}
