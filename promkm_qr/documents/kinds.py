"""The document kinds: their printable, title, subjects of a month and data builder."""

from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from promkm_qr.core.dates import format_date, now_wib
from promkm_qr.documents import areas, people
from promkm_qr.documents.data import counted_states, period_label
from promkm_qr.extensions import db
from promkm_qr.models import AsnProfile, Kecamatan, Kelurahan, Opd, Stall, User
from promkm_qr.reference import get_setting
from promkm_qr.reports.states import state_label

CITY = "kota"

# Who signs what, until dinas enter names in the "document_signers" setting; an empty name
# prints a dotted line to be filled in by hand, as on paper forms.
DEFAULT_SIGNERS = {
    "head": {
        "position": "Kepala Dinas Tenaga Kerja, Koperasi, Usaha Kecil dan Menengah",
        "name": "",
        "nip": "",
    },
    "superior": {"position": "Sekretaris Daerah Kota Madiun", "name": "", "nip": ""},
}


@dataclass(frozen=True)
class Kind:
    """How one kind of document is planned and filled."""

    printable: str
    title: str
    subjects: Callable[[str], list[str]]
    build: Callable[[str, list[str]], dict[str, dict]]
    # An area's report lists its flagged reports and can take seconds: one per chunk, sent
    # first, so that the batch does not end with one process on a long chunk and the
    # other idle (batch.pending_chunks).
    area: bool = False


def _ids(build):
    """Adapt a builder keyed by integer ids to string subjects."""

    def wrapped(period: str, subjects: list[str]) -> dict[str, dict]:
        """Call the builder with integer ids and key its answer by string subjects."""
        return {str(k): v for k, v in build(period, [int(s) for s in subjects]).items()}

    return wrapped


def _all(column, *where):
    """A subjects function listing the column's distinct values."""

    def subjects(_period: str) -> list[str]:
        """Every distinct value of the column, as strings."""
        query = select(column).distinct().where(*where).order_by(column)
        return [str(value) for value in db.session.scalars(query)]

    return subjects


def _verification(area: str):
    """The builder of verification data for one area kind."""
    return _ids(lambda period, keys: areas.verification_reports(period, area, keys))


KINDS = {
    "asn_receipt": Kind(
        "asn_receipt",
        "Rekap Belanja ASN",
        _all(AsnProfile.user_id, AsnProfile.on_roster.is_(True)),
        _ids(people.asn_receipts),
    ),
    "merchant_recap": Kind(
        "merchant_recap",
        "Rekap Penjualan UMKM",
        _all(Stall.owner_id, Stall.owner_id.is_not(None)),
        _ids(people.merchant_recaps),
    ),
    "verification_kelurahan": Kind(
        "verification",
        "Laporan Verifikasi Kelurahan",
        _all(Kelurahan.id),
        _verification("kelurahan"),
        area=True,
    ),
    "verification_kecamatan": Kind(
        "verification",
        "Laporan Verifikasi Kecamatan",
        _all(Kecamatan.id),
        _verification("kecamatan"),
        area=True,
    ),
    "verification_opd": Kind(
        "verification", "Laporan Verifikasi OPD", _all(Opd.id), _verification("opd"), area=True
    ),
    "city_recap": Kind(
        "city_recap",
        "Rekap Kota",
        lambda _period: [CITY],
        lambda period, _subjects: {CITY: areas.city_recap(period)},
        area=True,
    ),
}


def subject_names(kind: str, subjects: list[str]) -> dict[str, str]:
    """Display names of subjects for the documents list."""
    model = {
        "asn_receipt": User,
        "merchant_recap": User,
        "verification_kelurahan": Kelurahan,
        "verification_kecamatan": Kecamatan,
        "verification_opd": Opd,
    }.get(kind)
    if model is None:
        return {s: "Kota" for s in subjects}
    ids = [int(s) for s in subjects]
    rows = db.session.execute(select(model.id, model.name).where(model.id.in_(ids)))
    return {str(i): name for i, name in rows}


def common_context() -> dict:
    """The parts every document of a batch shares: kop, signers, counted states, print date."""
    signers = get_setting("document_signers") or DEFAULT_SIGNERS
    return {
        "kop": dict(get_setting("branding")),
        "signers": signers,
        "counted_labels": [state_label(s) for s in counted_states()],
        "printed_on": format_date(now_wib()),
    }


def document_context(common: dict, kind: str, period: str, public_id: str, data: dict) -> dict:
    """The full plain-data context of one document."""
    base_url = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return {
        **common,
        **data,
        "doc": {
            "id": public_id,
            "kind": kind,
            "title": KINDS[kind].title,
            "period": period_label(period),
            "verify_url": f"{base_url}/v/{public_id}",
            "verify_base": f"{base_url}/v/",
        },
    }
