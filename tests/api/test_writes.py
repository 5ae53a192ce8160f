"""The write scopes: the roster and stall upserts follow the file imports' rules and results."""

from sqlalchemy import func, select

from promkm_qr.accounts import roster
from promkm_qr.extensions import db
from promkm_qr.models import AsnProfile, AuditEntry, Opd, Stall, User
from tests.api.conftest import bearer
from tests.factories import make_opd

NEW_NIPS = ("198609262015051901", "198609262015052902")


def _roster_items(city) -> list[dict]:
    """Keep the first ASN, move the second (new name), drop two, add two (one new OPD)."""
    first, second = city["people"][:2]
    return [
        {"nip": first.nip, "name": first.name, "opd": "API1", "position": "pelaksana"},
        {"nip": second.nip, "name": "Nama Baru", "opd": "Dinas Satu", "position": "pelaksana",
         "golongan": "III/a", "tpp": 1_500_000},
        {"nip": NEW_NIPS[0], "name": "Ma'ruf Baru", "opd": "Dinas Dua", "position": "pelaksana"},
        {"nip": NEW_NIPS[1], "name": "Sri Baru", "opd": "Dinas Tiga", "position": "pelaksana",
         "tpp": 900_000},
    ]  # fmt: skip


def _roster_csv(items: list[dict]) -> bytes:
    lines = ["NIP;Nama;OPD;Kelas Jabatan;Golongan;TPP"]
    for i in items:
        cells = (i["nip"], i["name"], i["opd"], i["position"], i.get("golongan"), i.get("tpp"))
        lines.append(";".join("" if c is None else str(c) for c in cells))
    return "\n".join(lines).encode()


def _accounts() -> list[tuple]:
    """Every ASN account as the roster leaves it, and the OPD list."""
    rows = db.session.execute(
        select(User.nip, User.name, User.active, User.session_version, Opd.name,
               AsnProfile.position_class, AsnProfile.golongan, AsnProfile.tpp_amount,
               AsnProfile.on_roster)
        .join(AsnProfile, AsnProfile.user_id == User.id)
        .outerjoin(Opd, Opd.id == AsnProfile.opd_id)
        .where(User.role == "asn")
    ).all()  # fmt: skip
    opds = db.session.execute(select(Opd.code, Opd.name)).all()
    return sorted(tuple(r) for r in rows) + sorted(tuple(o) for o in opds)


def test_roster_upsert_equals_the_file_import(client, city):
    items = _roster_items(city)
    # The file import on the same data, then undone (it leaves the commit to its view).
    by_file = roster.import_roster("roster.csv", _roster_csv(items))
    assert not by_file.errors
    file_state = _accounts()
    db.session.rollback()
    answer = client.put("/api/v1/roster", json={"items": items}, headers=bearer("write:roster"))
    assert answer.status_code == 200, answer.get_json()
    assert answer.headers["Cache-Control"] == "no-store"
    body = answer.get_json()
    db.session.expire_all()
    assert _accounts() == file_state
    counts = ("created", "updated", "moved", "deactivated")
    assert {k: body[k] for k in counts} == {k: getattr(by_file, k) for k in counts}
    assert {k: body[k] for k in counts} == {"created": 2, "updated": 2, "moved": 1,
                                            "deactivated": 2}  # fmt: skip
    assert body["new_opds"] == by_file.new_opds == ["Dinas Tiga"]
    assert body["on_roster"] == 4
    moved = db.session.scalar(select(AsnProfile).where(AsnProfile.user_id == city["people"][1].id))
    assert (moved.tpp_amount, moved.golongan, moved.opd.code) == (1_500_000, "III/a", "API1")
    assert sorted(c["nip"] for c in body["codes"]) == sorted(c["nip"] for c in by_file.codes)
    assert all(len(c["code"]) >= 8 for c in body["codes"])
    # The codes go to this answer only: the audit entry holds counts and ids.
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "api.roster_applied"))
    new_ids = db.session.scalars(select(User.id).where(User.nip.in_(NEW_NIPS))).all()
    assert entry.data["created_user_ids"] == sorted(new_ids)
    text = str(entry.data)
    assert not any(c["code"] in text or c["nip"] in text for c in body["codes"])
    again = client.put("/api/v1/roster", json={"items": items}, headers=bearer("write:roster"))
    assert again.get_json()["codes"] == [] and again.get_json()["created"] == 0


def test_a_bad_roster_item_changes_nothing_and_is_named_by_index(client, city):
    items = _roster_items(city)
    items[2] = {**items[2], "nip": "123"}
    items[3] = {**items[3], "position": "raja"}
    before = _accounts()
    answer = client.put("/api/v1/roster", json={"items": items}, headers=bearer("write:roster"))
    assert answer.status_code == 422 and answer.mimetype == "application/problem+json"
    refused = answer.get_json()["errors"]["json"]["items"]
    assert sorted(refused) == ["2", "3"] and "NIP" in refused["2"][0]
    db.session.expire_all()
    assert _accounts() == before


def _stall_items(city) -> list[dict]:
    return [
        {"name": "Pecel Bu Tutik", "owner_nik": "3577014107850002", "owner_name": "Tutik",
         "kelurahan": "35.77.01.1001", "phone": "081211110001", "category": "kuliner",
         "lat": -7.63, "lon": 111.52},
        {"code": city["stall"].code, "name": "Warung API Baru", "owner_nik": "3577010101800003",
         "kelurahan": "35.77.01.1001"},
    ]  # fmt: skip


def test_stall_upsert_creates_updates_and_is_idempotent(client, city):
    headers = bearer("write:stalls")
    answer = client.post("/api/v1/stalls", json={"items": _stall_items(city)}, headers=headers)
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert (body["created"], body["updated"], body["unchanged"]) == (1, 1, 0)
    assert body["codes"][1] == city["stall"].code
    db.session.expire_all()
    made = db.session.scalar(select(Stall).where(Stall.code == body["codes"][0]))
    assert (made.name, made.owner_nik, made.status, made.lat) == (
        "Pecel Bu Tutik", "3577014107850002", "active", -7.63
    )  # fmt: skip
    assert made.owner.phone == "081211110001"
    assert db.session.get(Stall, city["stall"].id).name == "Warung API Baru"
    again = client.post("/api/v1/stalls", json={"items": _stall_items(city)}, headers=headers)
    assert again.get_json() == {**body, "created": 0, "updated": 0, "unchanged": 2}
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "api.stalls_upserted"))
    assert sorted(entry.data["stall_ids"]) == sorted([made.id, city["stall"].id])
    assert "Pecel" not in str(entry.data) and "3577" not in str(entry.data)


def test_stall_upsert_is_all_or_nothing_with_errors_per_item(client, city):
    items = _stall_items(city)
    items.append({"name": "Lapak Rusak", "owner_nik": "123", "kelurahan": "Atlantis"})
    items.append({"code": "XX-404", "name": "Tidak Ada", "owner_nik": "3577014107850002",
                  "kelurahan": "35.77.01.1001"})  # fmt: skip
    count = db.session.scalar(select(func.count(Stall.id)))
    answer = client.post("/api/v1/stalls", json={"items": items}, headers=bearer("write:stalls"))
    assert answer.status_code == 422 and answer.mimetype == "application/problem+json"
    refused = answer.get_json()["errors"]["json"]["items"]
    assert sorted(refused) == ["2", "3"]
    assert sorted(refused["2"]) == ["kelurahan", "owner_nik"]
    assert list(refused["3"]) == ["code"]
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Stall.id))) == count
    assert db.session.get(Stall, city["stall"].id).name == "Warung API"


def test_writes_need_their_scope_a_city_wide_client_and_known_fields(client, city):
    stalls = {"items": _stall_items(city)}
    roster_body = {"items": _roster_items(city)}
    for url, body, method in (("/api/v1/stalls", stalls, client.post),
                              ("/api/v1/roster", roster_body, client.put)):  # fmt: skip
        wrong = method(url, json=body, headers=bearer("read:stalls", "read:compliance"))
        assert wrong.status_code == 403 and wrong.mimetype == "application/problem+json"
        assert "write:" in wrong.get_json()["detail"]
        scope = "write:stalls" if "stalls" in url else "write:roster"
        one_opd = method(url, json=body, headers=bearer(scope, opd_id=make_opd().id))
        assert one_opd.status_code == 403 and one_opd.mimetype == "application/problem+json"
        extra = {"items": [{**body["items"][0], "colour": "red"}]}
        unknown = method(url, json=extra, headers=bearer(scope))
        assert unknown.status_code == 422 and "colour" in str(unknown.get_json()["errors"])
    db.session.expire_all()
    assert db.session.get(Stall, city["stall"].id).name == "Warung API"
    assert all(p.active for p in city["people"])
