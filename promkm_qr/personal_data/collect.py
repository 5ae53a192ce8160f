"""A person's own data as plain values: account, reports with their history, photos, documents.

Only what belongs to the person goes in. An ASN gets their reports, with the position and
photo they sent; a merchant gets their stalls and the reports made at them, without the
buyers' names, NIPs, positions or photos (those are the buyers' data). Who acted on a
report is given as a role ("saya", "penjual", "petugas", "sistem"), never as another
person's name.
"""

from datetime import datetime
from pathlib import PurePosixPath

from sqlalchemy import select
from sqlalchemy.orm import contains_eager, joinedload

from promkm_qr.documents.services import own_documents
from promkm_qr.extensions import db
from promkm_qr.models import (
    AsnProfile,
    Category,
    Evidence,
    Kelurahan,
    PurchaseReport,
    ReportTransition,
    Stall,
    User,
)
from promkm_qr.reports.states import state_label


def _time(value: datetime | None) -> str | None:
    """Stored times are naive UTC; written with their offset so nobody has to guess."""
    return None if value is None else value.isoformat() + "+00:00"


def account(person: User) -> dict:
    """The account row and, for an ASN, their roster entry."""
    data = {
        "id": person.id,
        "peran": person.role,
        "nama": person.name,
        "nip": person.nip,
        "nomor_hp": person.phone,
        "bahasa": person.locale,
        "aktif": person.active,
        "sudah_aktivasi": person.password_hash is not None,
        "dibuat": _time(person.created_at),
        "terakhir_masuk": _time(person.last_login_at),
    }
    profile = db.session.scalar(
        select(AsnProfile)
        .options(joinedload(AsnProfile.opd))
        .where(AsnProfile.user_id == person.id)
    )
    if profile is not None:
        data.update(
            {
                "nik": profile.nik,
                "opd": profile.opd.name if profile.opd else None,
                "kelas_jabatan": profile.position_class,
                "golongan": profile.golongan,
                "tpp": profile.tpp_amount,
                "terdaftar_di_roster": profile.on_roster,
            }
        )
    return data


def stalls(person: User) -> list[dict]:
    """The merchant's stalls as registered."""
    rows = db.session.execute(
        select(Stall, Kelurahan.name, Category.name)
        .join(Kelurahan, Kelurahan.id == Stall.kelurahan_id)
        .outerjoin(Category, Category.id == Stall.category_id)
        .where(Stall.owner_id == person.id)
        .order_by(Stall.id)
    ).all()
    return [
        {
            "id": stall.id,
            "kode": stall.code,
            "nama": stall.name,
            "alamat": stall.address,
            "kelurahan": kelurahan,
            "kategori": category,
            "lat": stall.lat,
            "lon": stall.lon,
            "nib": stall.nib,
            "nik_pemilik": stall.owner_nik,
            "nomor_hp": stall.phone,
            "qris_nmid": stall.qris_nmid,
            "status": stall.status,
            "dibuat": _time(stall.created_at),
            "foto": stall_photo_name(stall) if stall.photo_key else None,
        }
        for stall, kelurahan, category in rows
    ]


def stall_photo_name(stall: Stall) -> str:
    """The name of a stall's photo inside the archive."""
    return f"foto/lapak-{stall.code}{PurePosixPath(stall.photo_key or '').suffix or '.jpg'}"


def report_photo_name(report: PurchaseReport) -> str:
    """The name of a report's photo inside the archive."""
    return f"foto/laporan-{report.reference}.jpg"


def _actor(actor_id: int | None, person: User, roles: dict[int, str]) -> str:
    if actor_id is None:
        return "sistem"
    if actor_id == person.id:
        return "saya"
    return {"asn": "pembeli", "merchant": "penjual", "dinas": "petugas"}.get(
        roles.get(actor_id, ""), "lainnya"
    )


def _history(report_ids: list[int], person: User) -> dict[int, list[dict]]:
    """Each report's state changes, oldest first."""
    rows = db.session.scalars(
        select(ReportTransition)
        .where(ReportTransition.report_id.in_(report_ids))
        .order_by(ReportTransition.report_id, ReportTransition.id)
    ).all()
    actors = {r.actor_id for r in rows if r.actor_id is not None}
    roles = {}
    if actors:
        roles = dict(
            db.session.execute(select(User.id, User.role).where(User.id.in_(actors))).all()
        )
    history: dict[int, list[dict]] = {rid: [] for rid in report_ids}
    for row in rows:
        history[row.report_id].append(
            {
                "waktu": _time(row.at),
                "dari": row.from_state,
                "ke": row.to_state,
                "oleh": _actor(row.actor_id, person, roles),
                "alasan": row.reason,
                "perubahan": row.changes,
            }
        )
    return history


def reports(person: User) -> list[dict]:
    """An ASN's own reports, or the reports made at a merchant's stalls."""
    # Stall and photo come with each report, not as a query per report.
    query = (
        select(PurchaseReport)
        .join(Stall, Stall.id == PurchaseReport.stall_id)
        .options(contains_eager(PurchaseReport.stall))
    )
    if person.role == "asn":
        query = query.where(PurchaseReport.asn_id == person.id)
        query = query.options(joinedload(PurchaseReport.evidence))
    else:
        query = query.where(Stall.owner_id == person.id)
    found = db.session.scalars(query.order_by(PurchaseReport.id)).all()
    history = _history([r.id for r in found], person)
    own = person.role == "asn"
    result = []
    for report in found:
        row = {
            "id": report.id,
            "referensi": report.reference,
            "lapak_kode": report.stall.code,
            "lapak_nama": report.stall.name,
            "nominal": report.amount,
            "kategori_barang": report.goods_category,
            "keterangan": report.description,
            "cara_bayar": report.payment_method,
            "waktu_belanja": _time(report.purchased_at),
            "status": report.state,
            "status_label": state_label(report.state),
            "ditandai": report.flagged,
            "dikirim": _time(report.created_at),
            "riwayat": history[report.id],
        }
        if own:
            # The buyer's position and photo are the buyer's data, not the merchant's.
            evidence = report.evidence
            kept = evidence is not None and evidence.purged_at is None
            row.update(
                {
                    "lat": report.lat,
                    "lon": report.lon,
                    "foto": report_photo_name(report) if kept else None,
                    "foto_diambil": _time(evidence.taken_at) if evidence else None,
                    "foto_lat": evidence.gps_lat if evidence else None,
                    "foto_lon": evidence.gps_lon if evidence else None,
                }
            )
        result.append(row)
    return result


def photos(person: User) -> dict[str, str]:
    """Archive name -> storage key of every photo of the person that is still kept."""
    if person.role == "asn":
        found = db.session.execute(
            select(PurchaseReport, Evidence.storage_key)
            .join(Evidence, Evidence.id == PurchaseReport.evidence_id)
            .where(PurchaseReport.asn_id == person.id, Evidence.purged_at.is_(None))
            .order_by(PurchaseReport.id)
        ).all()
        return {report_photo_name(report): key for report, key in found}
    found = db.session.scalars(
        select(Stall).where(Stall.owner_id == person.id, Stall.photo_key.is_not(None))
    ).all()
    return {stall_photo_name(s): s.photo_key for s in found}


def documents(person: User) -> list[dict]:
    """The receipts or recaps issued to the person, with their archive names."""
    return [
        {
            "id": doc.public_id,
            "jenis": doc.kind,
            "periode": doc.period,
            "dibuat": _time(doc.generated_at),
            "sha256": doc.checksum,
            "berkas": f"dokumen/{doc.kind}-{doc.period}-{doc.public_id}.pdf",
            "storage_key": doc.storage_key,
        }
        for doc in own_documents(person)
    ]
