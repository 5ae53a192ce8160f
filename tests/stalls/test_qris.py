"""QRIS samples parse as labelled; a pasted QRIS prefills the form; a duplicate NMID is refused."""

from pathlib import Path

import pytest
from sqlalchemy import select

from promkm_qr.core.qris import InvalidQris, parse_qris
from promkm_qr.extensions import db
from promkm_qr.models import Kelurahan, Stall
from tests.conftest import csrf_token
from tests.factories import make_stall

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "qris_samples.txt"
LOCAL = Path(__file__).with_name("qris_samples.txt")


def _samples() -> list[tuple[str, str]]:
    path = SAMPLES if SAMPLES.is_file() else LOCAL
    rows = []
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            expect, payload = line.split("\t", 1)
            rows.append((expect, payload))
    return rows


VALID = next(p for e, p in _samples() if e == "valid")


@pytest.mark.parametrize(("expect", "payload"), _samples())
def test_samples_parse_or_fail_as_labelled(expect, payload):
    if expect == "valid":
        assert parse_qris(payload).nmid.startswith("ID")
    else:
        with pytest.raises(InvalidQris):
            parse_qris(payload)


def _form(client, **fields) -> dict:
    kel = db.session.scalar(select(Kelurahan).where(Kelurahan.code == "35.77.01.1001"))
    data = {
        "csrf_token": csrf_token(client, "/dinas/lapak/baru"),
        "name": "",
        "kelurahan_id": str(kel.id),
        "owner_nik": "3577014107850002",
        "phone": "081355556666",
        "address": "Jl. Salak 3",
        "qris_payload": VALID,
        "action": "save",
    }
    return {**data, **fields}


def test_qris_paste_prefills_name_and_nmid(client, operator):
    response = client.post("/dinas/lapak/baru", data=_form(client, read_qris="1"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'value="Warung Sayur Bu Sugeng"' in html
    assert "ID1020017611473" in html


def test_stall_with_qris_is_created_and_a_duplicate_nmid_refused(client, operator):
    response = client.post("/dinas/lapak/baru", data=_form(client, name="Warung Sayur Bu Sugeng"))
    assert response.status_code == 302
    stall = db.session.scalar(select(Stall))
    assert stall.qris_nmid == "ID1020017611473"
    assert stall.status == "active"
    again = client.post("/dinas/lapak/baru", data=_form(client, name="Lapak Kedua"))
    assert again.status_code == 400
    assert "sudah terdaftar di lapak" in again.get_data(as_text=True)
    assert stall.code in again.get_data(as_text=True)
    db.session.rollback()
    assert len(db.session.scalars(select(Stall)).all()) == 1


def test_emptying_the_qris_field_removes_the_nmid(client, operator):
    client.post("/dinas/lapak/baru", data=_form(client, name="Warung Sayur Bu Sugeng"))
    stall = db.session.scalar(select(Stall))
    edit = f"/dinas/lapak/{stall.id}/ubah"
    page = client.get(edit).get_data(as_text=True)
    assert "ID1020017611473" in page  # the stored payload is shown, so emptying is deliberate
    response = client.post(edit, data=_form(client, name=stall.name, qris_payload=""))
    assert response.status_code == 302
    db.session.refresh(stall)
    assert (stall.qris_payload, stall.qris_nmid) == (None, None)
    # The NMID is free again for another stall.
    again = client.post("/dinas/lapak/baru", data=_form(client, name="Lapak Kedua"))
    assert again.status_code == 302


def test_bad_crc_is_refused_on_the_form(client, operator):
    bad = next(p for e, p in _samples() if e == "bad-crc")
    response = client.post("/dinas/lapak/baru", data=_form(client, name="X", qris_payload=bad))
    assert response.status_code == 400
    assert "CRC QRIS salah" in response.get_data(as_text=True)
    assert 'value="X"' in response.get_data(as_text=True)


def test_nmid_of_an_existing_stall_is_refused(client, operator):
    make_stall(qris_nmid="ID1020017611473")
    response = client.post("/dinas/lapak/baru", data=_form(client, name="Baru"))
    assert response.status_code == 400
