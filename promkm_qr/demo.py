"""A believable dataset for demos, screenshots and benchmarks, of any size.

Rows are inserted in bulk (one INSERT per table and batch) so the same generator builds
Madiun scale (23,600 stalls, 6,000 ASN, 60,000 reports a month) in seconds.
"""

import random
import secrets
from datetime import date, datetime, timedelta
from itertools import pairwise

from sqlalchemy import insert, select

from promkm_qr.auth.services import hash_password
from promkm_qr.core.stall_code import make_stall_code
from promkm_qr.extensions import db
from promkm_qr.models import (
    AsnProfile,
    Category,
    Kelurahan,
    Opd,
    PurchaseReport,
    ReportTransition,
    Stall,
    User,
)
from promkm_qr.models.base import utcnow

DEMO_PASSWORD = "demo12345"  # noqa: S105  (published demo login)
DEMO_LOGINS = {
    "dinas": "admin",
    "merchant": "081234567890",
    "asn": "198609262015051001",
}
OPDS = [
    ("BAPPEDA", "Badan Perencanaan Pembangunan Daerah"),
    ("BKPSDM", "Badan Kepegawaian dan Pengembangan Sumber Daya Manusia"),
    ("DINKES", "Dinas Kesehatan"),
    ("DISDIK", "Dinas Pendidikan"),
    ("DISNAKERKUKM", "Dinas Tenaga Kerja, Koperasi, Usaha Kecil dan Menengah"),
    ("DISHUB", "Dinas Perhubungan"),
    ("DPUPR", "Dinas Pekerjaan Umum dan Penataan Ruang"),
    ("SETDA", "Sekretariat Daerah"),
    ("INSPEKTORAT", "Inspektorat Daerah"),
    ("KEC-KARTOHARJO", "Kecamatan Kartoharjo"),
    ("KEC-MANGUHARJO", "Kecamatan Manguharjo"),
    ("KEC-TAMAN", "Kecamatan Taman"),
]
FIRST = [
    "Sri",
    "Budi",
    "Siti",
    "Agus",
    "Dewi",
    "Joko",
    "Wahyu",
    "Rina",
    "Eko",
    "Endang",
    "Hadi",
    "Lestari",
    "Yuli",
    "Bambang",
    "Nur",
    "Ratna",
    "Suparno",
    "Tutik",
]
LAST = [
    "Rahayu",
    "Santoso",
    "Wulandari",
    "Prasetyo",
    "Susanti",
    "Hidayat",
    "Purnomo",
    "Handayani",
    "Setiawan",
    "Kurniawati",
    "Wibowo",
    "Lestari",
]
STALL_WORDS = {
    "kuliner": ["Warung", "Pecel", "Soto", "Bakso", "Nasi Jotos", "Kopi"],
    "sembako": ["Toko", "Kios Sembako", "Lapak"],
    "sayur-buah": ["Lapak Sayur", "Buah Segar"],
    "pakaian": ["Batik", "Konveksi"],
    "kerajinan": ["Kerajinan", "Anyaman"],
    "jasa": ["Jahit", "Cukur", "Servis HP"],
    "lainnya": ["Kios", "Usaha"],
}
STATES = [
    ("verified", 40),
    ("confirmed", 25),
    ("submitted", 20),
    ("disputed", 7),
    ("rejected", 5),
    ("withdrawn", 3),
]
POSITIONS = [
    ("pelaksana", 70),
    ("eselon-iv", 18),
    ("eselon-iii", 8),
    ("kepala-opd", 3),
    ("eselon-ii", 1),
]


def valid_nip(rng: random.Random, serial: int) -> str:
    """An 18-digit NIP with a real birth date, appointment at 22-35, gender 1 or 2."""
    birth = date(1965, 1, 1) + timedelta(days=rng.randrange(365 * 33))
    appointed = min(birth.year + rng.randint(22, 35), 2024)
    return (
        f"{birth:%Y%m%d}{appointed}{rng.randint(1, 12):02d}{rng.randint(1, 2)}{serial % 1000:03d}"
    )


def _weighted(rng: random.Random, pairs):
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def _bulk(model, rows: list[dict], batch: int = 5000) -> None:
    for start in range(0, len(rows), batch):
        db.session.execute(insert(model), rows[start : start + batch])


def build_demo(
    stalls: int = 300,
    asn: int = 120,
    months: int = 3,
    seed: int = 7,
    reports_per_month: int | None = None,
) -> dict:
    """Create OPDs, merchants, stalls, ASN and purchase reports; return the counts."""
    rng = random.Random(seed)
    password = hash_password(DEMO_PASSWORD)
    now = utcnow()
    kelurahan = db.session.scalars(select(Kelurahan).order_by(Kelurahan.code)).all()
    categories = db.session.scalars(select(Category)).all()
    if not kelurahan or not categories:
        raise RuntimeError("load regions and defaults first (flask --app wsgi setup)")

    opd_ids = [_get_or_add(Opd, code=c, name=n).id for c, n in OPDS]
    staff = User(
        role="dinas",
        name="Admin Dinas",
        username=DEMO_LOGINS["dinas"],
        staff_role="admin",
        password_hash=password,
    )
    db.session.add(staff)

    merchants = [
        {
            "role": "merchant",
            "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            "phone": DEMO_LOGINS["merchant"] if i == 0 else f"0857{i:08d}",
            "password_hash": password,
            "created_at": now,
            "session_version": 1,
            "active": True,
        }
        for i in range(max(1, stalls * 9 // 10))
    ]
    _bulk(User, merchants)
    merchant_ids = db.session.scalars(
        select(User.id).where(User.role == "merchant").order_by(User.id)
    ).all()

    stall_rows, serials = [], {}
    for i in range(stalls):
        kel = kelurahan[i % len(kelurahan)]
        cat = categories[rng.randrange(len(categories))]
        serials[kel.id] = serial = serials.get(kel.id, 0) + 1
        words = STALL_WORDS.get(cat.slug, ["Usaha"])
        stall_rows.append(
            {
                "code": make_stall_code(kel.code, serial),
                "kelurahan_id": kel.id,
                "serial": serial,
                "name": f"{rng.choice(words)} {rng.choice(FIRST)}",
                "owner_id": merchant_ids[i % len(merchant_ids)],
                "category_id": cat.id,
                "address": f"Jl. {rng.choice(LAST)} No. {rng.randint(1, 120)}, {kel.name}",
                "lat": -7.63 + rng.uniform(-0.03, 0.03),
                "lon": 111.52 + rng.uniform(-0.03, 0.03),
                # The demo merchant's stalls are active, so its sign-in shows sales.
                "status": "active"
                if i % len(merchant_ids) == 0 or rng.random() > 0.03
                else "pending",
                "poster_version": 1,
                "created_at": now,
                "updated_at": now,
            }
        )
    _bulk(Stall, stall_rows)
    stall_ids = db.session.scalars(
        select(Stall.id).where(Stall.status == "active").order_by(Stall.id)
    ).all()

    asn_users = [
        {
            "role": "asn",
            "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            "nip": DEMO_LOGINS["asn"] if i == 0 else valid_nip(rng, i),
            "password_hash": password,
            "created_at": now,
            "session_version": 1,
            "active": True,
        }
        for i in range(asn)
    ]
    seen = set()
    asn_users = [u for u in asn_users if not (u["nip"] in seen or seen.add(u["nip"]))]
    _bulk(User, asn_users)
    asn_ids = db.session.scalars(select(User.id).where(User.role == "asn").order_by(User.id)).all()
    asn_opd = {uid: rng.choice(opd_ids) for uid in asn_ids}
    _bulk(
        AsnProfile,
        [
            {
                "user_id": uid,
                "opd_id": asn_opd[uid],
                "position_class": _weighted(rng, POSITIONS),
                "golongan": rng.choice(["II/c", "III/a", "III/b", "III/c", "IV/a"]),
                "on_roster": True,
            }
            for uid in asn_ids
        ],
    )

    count = _demo_reports(
        rng, asn_ids, asn_opd, stall_ids, months, reports_per_month, staff.id, now
    )
    db.session.commit()
    return {"stalls": stalls, "merchants": len(merchant_ids), "asn": len(asn_ids), "reports": count}


def _get_or_add(model, **fields):
    row = db.session.scalar(select(model).filter_by(code=fields["code"]))
    if row is None:
        row = model(**fields)
        db.session.add(row)
        db.session.flush()
    return row


def _demo_reports(rng, asn_ids, asn_opd, stall_ids, months, per_month, staff_id, now) -> int:
    """Reports over the last months; a few stalls sell a lot, many sell little."""
    if not stall_ids or not asn_ids:
        return 0
    per_month = per_month or len(asn_ids) * 4
    weights = [1 / (rank + 1) ** 0.8 for rank in range(len(stall_ids))]
    rows, total = [], 0
    for n in range(months * per_month):
        purchased = now - timedelta(days=rng.uniform(0, 30 * months))
        # UTC 00-09 is 07:00-16:59 WIB, when stalls are open.
        purchased = purchased.replace(hour=rng.randint(0, 9), microsecond=0)
        asn_id = rng.choice(asn_ids)
        rows.append(
            {
                "reference": f"PR{secrets.token_hex(5).upper()}",
                "idempotency_key": secrets.token_hex(16),
                "asn_id": asn_id,
                "opd_id": asn_opd[asn_id],
                "stall_id": rng.choices(stall_ids, weights=weights)[0],
                "amount": rng.choice([5, 8, 10, 12, 15, 20, 25, 35, 50, 75, 100, 150]) * 1000,
                "goods_category": rng.choice(["makanan", "minuman", "sembako", "lainnya"]),
                "description": rng.choice(["Nasi pecel", "Es teh", "Beras 5 kg", "Kopi", "Sayur"]),
                "payment_method": rng.choice(["tunai", "tunai", "qris", "transfer"]),
                "purchased_at": purchased,
                "state": _weighted(rng, STATES),
                "flagged": False,
                "created_at": purchased,
                "updated_at": purchased,
            }
        )
        total += 1
        if len(rows) >= 5000 or n == months * per_month - 1:
            _insert_reports(rows, staff_id)
            rows = []
    return total


def _insert_reports(rows: list[dict], staff_id: int) -> None:
    """Insert reports and the transitions that led to each one's state."""
    _bulk(PurchaseReport, rows)
    keys = [r["idempotency_key"] for r in rows]
    ids = dict(
        db.session.execute(
            select(PurchaseReport.idempotency_key, PurchaseReport.id).where(
                PurchaseReport.idempotency_key.in_(keys)
            )
        ).all()
    )
    paths = {
        "submitted": [],
        "withdrawn": ["withdrawn"],
        "confirmed": ["confirmed"],
        "disputed": ["disputed"],
        "verified": ["confirmed", "verified"],
        "rejected": ["disputed", "rejected"],
    }
    transitions = []
    for r in rows:
        at: datetime = r["purchased_at"]
        steps = [None, "submitted", *paths[r["state"]]]
        for before, after in pairwise(steps):
            at = at + timedelta(hours=2)
            actor = staff_id if after in ("verified", "rejected") else None
            transitions.append(
                {
                    "report_id": ids[r["idempotency_key"]],
                    "from_state": before,
                    "to_state": after,
                    "actor_id": actor,
                    "at": at,
                    "reason": "Tidak ada pembelian" if after in ("disputed", "rejected") else None,
                }
            )
    _bulk(ReportTransition, transitions)
