"""The stall registry: validate, create, edit, suspend, approve and search stalls.

Services take plain values (the dict a form or an import row produces) and raise
StallInvalid with one message per field. Search pages by keyset (id below the last one seen),
so page 400 of 100,000 stalls costs the same as page 1.
"""

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from promkm_qr import audit
from promkm_qr.core.nik import InvalidNik, mask_nik, parse_nik, validate_nib
from promkm_qr.core.qris import InvalidQris, parse_qris
from promkm_qr.core.stall_code import make_stall_code
from promkm_qr.core.text import HiddenCharacter, check_text
from promkm_qr.extensions import db
from promkm_qr.models import Category, Kelurahan, Stall, User
from promkm_qr.notifications.phones import check_mobile

PAGE_SIZE = 50
EDITABLE = ("name", "category_id", "address", "lat", "lon", "nib", "owner_nik", "phone")


class StallInvalid(ValueError):
    """Input that cannot become a stall: field name -> message for the user."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def _optional_float(value, low: float, high: float) -> float | None:
    """A coordinate within range, or None when blank; ValueError otherwise."""
    if value in (None, ""):
        return None
    number = float(str(value).replace(",", "."))
    if not low <= number <= high:
        raise ValueError
    return number


def clean(data: dict, *, nik_required: bool = True) -> dict:
    """Validate stall fields as typed; return normalised values or raise StallInvalid."""
    errors: dict[str, str] = {}
    out: dict = {}
    name = " ".join(str(data.get("name") or "").split())
    if not name:
        errors["name"] = _("Nama usaha wajib diisi.")
    elif len(name) > 200:
        errors["name"] = _("Nama usaha paling panjang 200 karakter.")
    out["name"] = name
    out["address"] = " ".join(str(data.get("address") or "").split())[:300]
    for field in ("name", "address", "qris_payload"):
        # The text as typed: str.split() above takes some control characters for spaces.
        try:
            check_text(str(data.get(field) or ""))
        except HiddenCharacter as exc:
            errors.setdefault(field, str(exc))
    out["kelurahan_id"] = data.get("kelurahan_id")
    if not out["kelurahan_id"] or db.session.get(Kelurahan, out["kelurahan_id"]) is None:
        errors["kelurahan_id"] = _("Pilih kelurahan yang terdaftar.")
    out["category_id"] = data.get("category_id") or None
    if out["category_id"] and db.session.get(Category, out["category_id"]) is None:
        errors["category_id"] = _("Kategori tidak dikenal.")
    for field, low, high in (("lat", -11.5, 6.5), ("lon", 94.0, 141.5)):
        try:
            out[field] = _optional_float(data.get(field), low, high)
        except ValueError:
            errors[field] = _("Koordinat di luar wilayah Indonesia atau tidak valid.")
    nib = str(data.get("nib") or "").strip()
    try:
        out["nib"] = validate_nib(nib) if nib else None
    except ValueError as exc:
        errors["nib"] = str(exc)
    nik = str(data.get("owner_nik") or "").strip()
    try:
        out["owner_nik"] = parse_nik(nik).digits if nik or nik_required else None
    except InvalidNik as exc:
        errors["owner_nik"] = str(exc)
    phone = str(data.get("phone") or "").strip()
    try:
        out["phone"] = check_mobile(phone) if phone else None
    except ValueError as exc:
        errors["phone"] = str(exc)
    payload = str(data.get("qris_payload") or "").strip()
    # An emptied field removes the stall's QRIS (the edit form shows the stored payload).
    out["qris_payload"], out["qris_nmid"] = None, None
    if payload:
        try:
            info = parse_qris(payload)
        except InvalidQris as exc:
            errors["qris_payload"] = str(exc)
        else:
            out["qris_payload"], out["qris_nmid"] = payload, info.nmid
    if errors:
        raise StallInvalid(errors)
    return out


def check_nmid_free(nmid: str | None, stall_id: int | None = None) -> None:
    """Refuse a QRIS NMID already registered to another stall."""
    if not nmid:
        return
    query = select(Stall.code).where(Stall.qris_nmid == nmid)
    if stall_id:
        query = query.where(Stall.id != stall_id)
    other = db.session.scalar(query)
    if other:
        raise StallInvalid(
            {
                "qris_payload": _(
                    "NMID %(nmid)s sudah terdaftar di lapak %(code)s.", nmid=nmid, code=other
                )
            }
        )


def qris_prefill(payload: str) -> dict:
    """Name, city and NMID read from a pasted QRIS, for prefilling the stall form."""
    info = parse_qris(payload)
    return {"name": info.merchant_name, "city": info.merchant_city, "nmid": info.nmid}


def owner_for_phone(phone: str | None, name: str) -> User | None:
    """The merchant account with this phone, created without a password if new."""
    if not phone:
        return None
    user = db.session.scalar(select(User).where(User.phone == phone))
    if user is None:
        user = User(role="merchant", name=name, phone=phone)
        db.session.add(user)
        db.session.flush()
    return user


def next_serial(kelurahan_id: int) -> int:
    """The next free serial in a kelurahan."""
    last = db.session.scalar(
        select(func.max(Stall.serial)).where(Stall.kelurahan_id == kelurahan_id)
    )
    return (last or 0) + 1


def create_stall(
    values: dict, *, actor_id: int | None, status: str = "active", owner=None
) -> Stall:
    """Create a stall with the next code of its kelurahan (values from clean())."""
    check_nmid_free(values.get("qris_nmid"))
    kel = db.session.get(Kelurahan, values["kelurahan_id"])
    owner = owner or owner_for_phone(values.get("phone"), values["name"])
    for _attempt in range(5):
        serial = next_serial(kel.id)
        stall = Stall(
            **values,
            code=make_stall_code(kel.code, serial),
            serial=serial,
            status=status,
            owner_id=owner.id if owner else None,
        )
        try:
            with db.session.begin_nested():
                db.session.add(stall)
        except IntegrityError:  # another writer took the serial; take the next one
            continue
        audit.record(
            "stall.created", "stall", stall.id, actor_id=actor_id, data={"code": stall.code}
        )
        return stall
    raise StallInvalid({"name": _("Kode lapak tidak dapat dibuat, coba lagi.")})


def update_stall(stall: Stall, values: dict, *, actor_id: int | None) -> list[str]:
    """Apply cleaned values to a stall; returns the names of the fields that changed."""
    check_nmid_free(values.get("qris_nmid"), stall.id)
    changed = [k for k, v in values.items() if k != "kelurahan_id" and getattr(stall, k) != v]
    for key in changed:
        setattr(stall, key, values[key])
    if changed:
        audit.record(
            "stall.updated", "stall", stall.id, actor_id=actor_id, data={"fields": changed}
        )
    return changed


def set_status(stall: Stall, status: str, *, actor_id: int) -> None:
    """Approve (active), suspend or reactivate a stall; a suspended stall's QR is refused."""
    if stall.status != status:
        audit.record(
            f"stall.{status}", "stall", stall.id, actor_id=actor_id, data={"from": stall.status}
        )
        stall.status = status


@dataclass
class SearchFilters:
    """What staff search stalls by."""

    q: str = ""
    kelurahan_id: int | None = None
    kecamatan_id: int | None = None
    status: str = ""


def filtered(filters: SearchFilters, user: User):
    """A SELECT of stall ids matching the filters within the staff member's scope."""
    # Imported here: the dinas package imports its views, which import this module.
    from promkm_qr.dinas.scope import apply_scope

    query = select(Stall.id)
    text = filters.q.strip()
    if text:
        like = f"%{text}%"
        owners = select(User.id).where(User.role == "merchant", User.name.ilike(like))
        query = query.where(
            or_(Stall.name.ilike(like), Stall.code.like(f"{text}%"), Stall.owner_id.in_(owners))
        )
    if filters.kelurahan_id:
        query = query.where(Stall.kelurahan_id == filters.kelurahan_id)
    if filters.kecamatan_id:
        kel_ids = select(Kelurahan.id).where(Kelurahan.kecamatan_id == filters.kecamatan_id)
        query = query.where(Stall.kelurahan_id.in_(kel_ids))
    if filters.status:
        query = query.where(Stall.status == filters.status)
    return apply_scope(query, Stall.kelurahan_id, user)


def search(
    filters: SearchFilters, user: User, *, before_id: int | None = None
) -> tuple[list, int | None]:
    """One page of stalls, newest first, and the id to continue after (None on the last page)."""
    ids = filtered(filters, user).order_by(Stall.id.desc()).limit(PAGE_SIZE + 1)
    if before_id:
        ids = ids.where(Stall.id < before_id)
    found = list(db.session.scalars(ids))
    more = len(found) > PAGE_SIZE
    found = found[:PAGE_SIZE]
    stalls = db.session.scalars(
        select(Stall)
        .options(selectinload(Stall.kelurahan))
        .where(Stall.id.in_(found))
        .order_by(Stall.id.desc())
    ).all()
    return stalls, (found[-1] if more else None)


def masked_nik(stall: Stall) -> str:
    """The owner's NIK as shown on screen."""
    return mask_nik(stall.owner_nik) if stall.owner_nik else "-"
