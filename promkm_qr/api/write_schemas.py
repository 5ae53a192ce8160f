"""Schemas of the write operations: stall upserts and the roster from SIASN/BKPSDM.

Types and lengths only; the rules (NIP, NIK, region, QRIS, quota classes...) are the file
imports', applied by their services, so a row the file import refuses the API refuses too.
"""

from marshmallow import Schema, fields, validate

from promkm_qr.api.schemas import Strict

MAX_ITEMS = 10_000  # a city's roster (about 6,000 ASN) in one call, stalls in batches


def _text(size: int, **kwargs):
    return fields.String(validate=validate.Length(max=size), **kwargs)


class StallItem(Strict):
    """A stall to create or update, matched like a file row: `code`, else `nib`, else the
    owner's NIK with the business name in the kelurahan; no match makes a new stall."""

    code = _text(20, metadata={"description": "Stall code of an existing stall to update."})
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    owner_nik = fields.String(required=True, validate=validate.Length(max=16))
    kelurahan = fields.String(
        required=True,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "Kemendagri code (35.77.01.1001) or name of the kelurahan."},
    )
    owner_name = _text(200)
    phone = _text(20)
    category = _text(100, metadata={"description": "Category slug or name; default lainnya."})
    address = _text(300)
    nib = _text(13)
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    qris_payload = _text(512, metadata={"description": "The merchant's QRIS text."})


class StallUpsert(Strict):
    """Stalls to upsert: all of them, or none when any item is refused."""

    items = fields.List(
        fields.Nested(StallItem), required=True, validate=validate.Length(min=1, max=MAX_ITEMS)
    )


class StallUpserted(Schema):
    """What an upsert did, and the code of each item's stall (in item order)."""

    created = fields.Integer(required=True)
    updated = fields.Integer(required=True)
    unchanged = fields.Integer(required=True)
    codes = fields.List(fields.String(), required=True)


class RosterItem(Strict):
    """One ASN of the roster, as the BKPSDM export has it."""

    nip = fields.String(required=True, validate=validate.Length(min=1, max=40))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    opd = fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "OPD code or name; an unknown name adds the OPD."},
    )
    position = fields.String(
        required=True,
        validate=validate.Length(min=1, max=32),
        metadata={"description": "Position class of the quota rules (e.g. pelaksana)."},
    )
    golongan = fields.String(allow_none=True, validate=validate.Length(max=8))
    tpp = fields.Integer(allow_none=True, validate=validate.Range(min=0, max=10**12))


class RosterUpsert(Strict):
    """The whole roster: ASN not in it are taken off it (deactivated, history kept)."""

    items = fields.List(
        fields.Nested(RosterItem), required=True, validate=validate.Length(min=1, max=MAX_ITEMS)
    )


class ActivationCode(Schema):
    """A new account's one-time activation code, for its OPD to hand out."""

    nip = fields.String(required=True)
    name = fields.String(required=True)
    opd = fields.String(required=True)
    code = fields.String(required=True)


class RosterApplied(Schema):
    """What the roster changed; `codes` are answered to this call only and never again."""

    created = fields.Integer(required=True)
    updated = fields.Integer(required=True)
    moved = fields.Integer(required=True)
    deactivated = fields.Integer(required=True)
    on_roster = fields.Integer(required=True)
    new_opds = fields.List(fields.String(), required=True)
    codes = fields.List(fields.Nested(ActivationCode), required=True)
