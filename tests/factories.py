"""Test data factories: each creates committed rows with sensible defaults."""

import itertools
import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import select

from promkm_qr.auth.services import hash_password
from promkm_qr.core.stall_code import make_stall_code
from promkm_qr.extensions import db
from promkm_qr.models import (
    AsnProfile,
    Category,
    Evidence,
    Kelurahan,
    Notification,
    Opd,
    PurchaseReport,
    ReportFlag,
    ReportTransition,
    Stall,
    User,
)
from promkm_qr.models.base import utcnow
from tests.conftest import PASSWORD, TOTP_SECRET

_seq = itertools.count(1)
_HASH = hash_password(PASSWORD)


def make_opd(code: str | None = None, name: str = "Dinas Contoh") -> Opd:
    """An OPD."""
    opd = Opd(code=code or f"OPD{next(_seq)}", name=name)
    db.session.add(opd)
    db.session.commit()
    return opd


def make_asn(
    nip: str | None = None,
    name: str = "Sri Rahayu",
    opd: Opd | None = None,
    position: str = "pelaksana",
    password: str | None = PASSWORD,
    **profile,
) -> User:
    """An ASN account with a roster profile; the NIP is valid unless given."""
    n = next(_seq)
    user = User(
        role="asn",
        name=name,
        nip=nip or f"19860926201505{1 + n % 2}{n % 1000:03d}",
        password_hash=_HASH
        if password == PASSWORD
        else (hash_password(password) if password else None),
    )
    db.session.add(user)
    db.session.flush()
    db.session.add(
        AsnProfile(
            user_id=user.id, opd_id=(opd or make_opd()).id, position_class=position, **profile
        )
    )
    db.session.commit()
    return user


def make_merchant(phone: str | None = None, name: str = "Bu Sugeng") -> User:
    """A merchant account signing in by phone."""
    user = User(
        role="merchant", name=name, phone=phone or f"0812{next(_seq):08d}", password_hash=_HASH
    )
    db.session.add(user)
    db.session.commit()
    return user


def make_staff(staff_role: str = "admin", username: str | None = None, **fields) -> User:
    """A dinas staff account with a role and an optional kecamatan/kelurahan scope.

    Enrolled in the second factor with TOTP_SECRET unless totp_secret=None is given.
    """
    fields.setdefault("totp_secret", TOTP_SECRET)
    user = User(
        role="dinas",
        name=f"Petugas {staff_role}",
        staff_role=staff_role,
        username=username or f"staff{next(_seq)}",
        password_hash=_HASH,
        **fields,
    )
    db.session.add(user)
    db.session.commit()
    return user


def kelurahan(code: str = "35.77.01.1001") -> Kelurahan:
    """A kelurahan of the loaded region list."""
    return db.session.scalar(select(Kelurahan).where(Kelurahan.code == code))


def make_stall(
    owner: User | None = None,
    name: str = "Warung Bu Sri",
    status: str = "active",
    kel_code: str = "35.77.01.1001",
    **fields,
) -> Stall:
    """An active stall in a kelurahan, owned by a merchant."""
    kel = kelurahan(kel_code)
    serial = next(_seq)
    category = db.session.scalar(select(Category).where(Category.slug == "kuliner"))
    stall = Stall(
        code=make_stall_code(kel.code, serial),
        kelurahan_id=kel.id,
        serial=serial,
        name=name,
        owner_id=(owner or make_merchant()).id,
        category_id=category.id,
        address="Jl. Pahlawan 1",
        status=status,
        **fields,
    )
    db.session.add(stall)
    db.session.commit()
    return stall


def make_report(
    asn: User,
    stall: Stall,
    amount: int = 25_000,
    purchased_at: datetime | None = None,
    state: str = "submitted",
    *,
    evidence: Evidence | None = None,
    flags: Iterable[str] | Mapping[str, str] = (),
    reason: str | None = None,
    **fields,
) -> PurchaseReport:
    """A committed report (purchased_at naive UTC, as stored) with its history and flags.

    The history holds the submission and, for any other state, the step into it (a dispute
    with its reason); flags are rule names, or rule names with their explanation.
    """
    n = next(_seq)
    at = purchased_at or (utcnow() - timedelta(hours=1))
    flags = dict(flags) if isinstance(flags, Mapping) else {rule: rule for rule in flags}
    report = PurchaseReport(
        reference=f"PRT{n:07d}",
        idempotency_key=secrets.token_hex(16),
        asn_id=asn.id,
        opd_id=asn.asn.opd_id if asn.asn else None,
        stall_id=stall.id,
        amount=amount,
        goods_category="makanan",
        description=fields.pop("description", "Nasi pecel"),
        purchased_at=at,
        evidence_id=evidence.id if evidence else None,
        state=state,
        flagged=fields.pop("flagged", bool(flags)),
        created_at=fields.pop("created_at", at),
        **fields,
    )
    db.session.add(report)
    db.session.flush()
    db.session.add(ReportTransition(report_id=report.id, from_state=None, to_state="submitted"))
    if state != "submitted":
        if state == "disputed":
            reason = reason or "Pembeli tidak dikenal"
        db.session.add(
            ReportTransition(
                report_id=report.id, from_state="submitted", to_state=state, reason=reason
            )
        )
    db.session.add_all(
        ReportFlag(report_id=report.id, rule=rule, detail=detail) for rule, detail in flags.items()
    )
    db.session.commit()
    return report


def make_notification(user: User, key: str, **fields) -> Notification:
    """An in-app message already delivered to `user` (added, not committed)."""
    values = {"kind": "asn_shortfall", "channel": "inapp", "status": "sent", "body": "Isi"}
    note = Notification(idempotency_key=key, user_id=user.id, **{**values, **fields})
    db.session.add(note)
    return note
