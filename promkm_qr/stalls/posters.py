"""Poster data for the printables, and rendering of one stall or a chunk of stalls.

Printables take plain data only: each stall becomes a dict (name, code, kelurahan, the signed
URL and its poster version) loaded with one query per chunk, never ORM objects.
"""

from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select

from promkm_qr import audit, reference
from promkm_qr.core.pdf import render_pdf
from promkm_qr.core.qr import MAX_POSTER_VERSION, qr_data_uri
from promkm_qr.extensions import db
from promkm_qr.models import Kecamatan, Kelurahan, PosterPrint, Stall
from promkm_qr.models.base import utcnow
from promkm_qr.stalls.links import poster_url

FORMATS = ("poster", "card", "stickers")
FORMAT_LABELS = {
    "poster": _l("Poster A4"),
    "card": _l("Kartu meja A6"),
    "stickers": _l("Lembar stiker A4 (12 per halaman)"),
}
# Stalls per rendered document: big enough to share the static layer, fonts and stylesheets
# across pages, small enough that a worker's memory stays flat however many stalls a job prints.
CHUNK_SIZE = 120


def branding() -> dict:
    """City branding (pemerintah, dinas, optional logo data: URI) from the settings."""
    value = reference.get_setting("branding") or {}
    logo = value.get("logo") or ""
    return {
        "pemerintah": str(value.get("pemerintah", "")),
        "dinas": str(value.get("dinas", "")),
        # Only an embedded image: the fetcher refuses files and the network anyway.
        "logo": logo if isinstance(logo, str) and logo.startswith("data:image/") else "",
    }


def stall_labels(stall_ids: Sequence[int]) -> list[dict]:
    """Plain data for each stall id, in the order of the ids given."""
    rows = db.session.execute(
        select(
            Stall.id,
            Stall.code,
            Stall.name,
            Stall.poster_version,
            Kelurahan.name,
            Kecamatan.name,
        )
        .join(Kelurahan, Stall.kelurahan_id == Kelurahan.id)
        .join(Kecamatan, Kelurahan.kecamatan_id == Kecamatan.id)
        .where(Stall.id.in_(list(stall_ids)))
    ).all()
    by_id = {
        row[0]: {
            "id": row[0],
            "code": row[1],
            "name": row[2],
            "version": row[3],
            "kelurahan": row[4],
            "kecamatan": row[5],
            "url": poster_url(row[1], row[3]),
        }
        for row in rows
    }
    labels = [by_id[i] for i in stall_ids if i in by_id]
    for label in labels:
        label["qr"] = qr_image(label["url"])
    return labels


def qr_image(url: str) -> str:
    """The poster QR as a PNG data: URI, refused above the poster's size limit."""
    return qr_data_uri(url, error="m", max_version=MAX_POSTER_VERSION)


def render_labels(fmt: str, labels: list[dict], brand: dict | None = None) -> bytes:
    """Render the labels in a format to one PDF: one document, a page per stall or sheet."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown poster format {fmt!r}")
    return render_pdf(fmt, {"stalls": labels, "branding": brand or branding()})


def record_prints(labels: list[dict], fmt: str, actor_id: int | None, job_id: str | None) -> None:
    """Record who printed which poster version of each stall (in the caller's transaction)."""
    now = utcnow()
    db.session.execute(
        insert(PosterPrint),
        [
            {
                "stall_id": label["id"],
                "version": label["version"],
                "format": fmt,
                "printed_by_id": actor_id,
                "job_id": job_id,
                "printed_at": now,
            }
            for label in labels
        ],
    )


def print_one(stall: Stall, fmt: str, *, revoke: bool, actor_id: int) -> bytes:
    """Print one stall's poster; with revoke, bump the version so old posters stop working."""
    if revoke:
        stall.poster_version += 1
        audit.record(
            "stall.poster_revoked",
            "stall",
            stall.id,
            actor_id=actor_id,
            data={"version": stall.poster_version},
        )
    db.session.flush()
    labels = stall_labels([stall.id])
    pdf = render_labels(fmt, labels)
    record_prints(labels, fmt, actor_id, None)
    db.session.commit()
    return pdf
