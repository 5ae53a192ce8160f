"""One document of each kind from known data, read back: totals, pages, QR and verification."""

import re

from sqlalchemy import text

from promkm_qr.core.money import format_rupiah
from promkm_qr.core.nik import mask_phone
from promkm_qr.documents import batch
from promkm_qr.documents.kinds import KINDS
from promkm_qr.extensions import db
from promkm_qr.jobs import create_job
from promkm_qr.models import Document
from promkm_qr.reference import get_setting
from promkm_qr.storage import get_storage
from tests.conftest import csrf_token
from tests.documents.conftest import HOSTILE, PERIOD, run_inline
from tests.documents.factories import decode_qr, page_texts, pdf_text

# October 2026 in WIB, as naive UTC: what the database holds.
START, END = "2026-09-30 17:00:00", "2026-10-31 17:00:00"


def _db_sum(where: str, **params) -> tuple[int, int]:
    """Count and sum of the month's counted reports matching a SQL condition."""
    states = get_setting("counted_states")
    marks = ", ".join(f":s{i}" for i in range(len(states)))
    # The condition is a literal of these tests; values go in as bound parameters.
    row = db.session.execute(
        text(
            "SELECT count(*), coalesce(sum(r.amount), 0) FROM purchase_reports r "  # noqa: S608
            "JOIN stalls s ON s.id = r.stall_id JOIN kelurahan k ON k.id = s.kelurahan_id "
            f"WHERE r.purchased_at >= :start AND r.purchased_at < :end AND r.state IN ({marks}) "
            f"AND {where}"
        ),
        {"start": START, "end": END, **{f"s{i}": s for i, s in enumerate(states)}, **params},
    ).one()
    return row[0], int(row[1])


def _doc(kind: str, subject) -> tuple[Document, bytes]:
    """The stored row and bytes of one document."""
    doc = db.session.query(Document).filter_by(kind=kind, subject=str(subject), period=PERIOD).one()
    return doc, get_storage().get(doc.storage_key)


def _counted_line(count: int, amount: int) -> str:
    """How an area document's counted total row reads in extracted text."""
    return f"Total dihitung {count} {format_rupiah(amount)}"


def _counted_text(count: int, amount: int) -> str:
    """How a person's document states its counted total."""
    return f"Total dihitung: {count} laporan, {format_rupiah(amount)}"


def test_every_kind_totals_match_the_database(month):
    job = run_inline()
    assert job.state == "done" and job.failed == 0 and job.done == job.total
    sri, budi, opd = month["sri"], month["budi"], month["opd"]

    doc, pdf = _doc("asn_receipt", sri.id)
    count, amount = _db_sum("r.asn_id = :id", id=sri.id)
    assert (count, amount) == (3, 47_500)  # the 1 Oct 00:30 WIB report counts, 1 Nov does not
    body = pdf_text(pdf)
    assert _counted_text(count, amount) in body
    assert "Sri <i>Rahayu</i>" in body and sri.nip in body and "Dinas Kesehatan" in body
    assert "Kuota: Rp50.000" in body
    assert "Kuota belum terpenuhi (total dihitung Rp47.500, kurang Rp2.500)" in body
    assert "Disanggah penjual: 1 laporan, Rp10.000" in body
    assert doc.pages == len(page_texts(pdf)) and f"Halaman {doc.pages} dari {doc.pages}" in body

    _, pdf = _doc("asn_receipt", budi.id)
    body = pdf_text(pdf)
    assert "Tidak ada laporan belanja pada periode ini: total Rp0." in body
    assert "Kuota belum terpenuhi (total dihitung Rp0, kurang Rp75.000)" in body
    assert "laporan, Rp" not in body  # no state group: a group of zeros would only repeat it

    _, pdf = _doc("merchant_recap", month["merchant"].id)
    body = pdf_text(pdf)
    assert _counted_text(*_db_sum("s.owner_id = :id", id=month["merchant"].id)) in body
    assert HOSTILE in body and "Rina Wulandari" in body
    assert f"01/10/2026: 4 laporan, {format_rupiah(25_000 + 1_000 + 1_030 + 1_060)}" in body

    _, pdf = _doc("verification_kelurahan", month["stall"].kelurahan_id)
    body = pdf_text(pdf)
    assert _counted_line(*_db_sum("s.kelurahan_id = :id", id=month["stall"].kelurahan_id)) in body
    assert "Foto sama dengan PRX" in body and "Sanggahan: Pembeli tidak dikenal" in body
    assert "2 dari 3 ASN melapor" in body

    kecamatan = month["stall"].kelurahan.kecamatan_id
    _, pdf = _doc("verification_kecamatan", kecamatan)
    assert _counted_line(*_db_sum("k.kecamatan_id = :id", id=kecamatan)) in pdf_text(pdf)

    _, pdf = _doc("verification_opd", opd.id)
    body = pdf_text(pdf)
    assert _counted_line(*_db_sum("r.opd_id = :id", id=opd.id)) in body
    assert "2 dari 3 ASN melapor" in body
    assert "Kuota terpenuhi 1 dari 3 ASN" in body  # only Rina; Sri is Rp2.500 short
    _, pdf = _doc("city_recap", "kota")
    body = pdf_text(pdf)
    assert _counted_line(*_db_sum("1 = 1")) in body
    assert "September 2026 1 Rp33.000" in body  # the month before, for comparison
    assert "Mengetahui," in body and "Sekretaris Daerah Kota Madiun" in body


def test_long_receipt_repeats_its_header_and_numbers_pages(month):
    run_inline(kinds=["asn_receipt"], subject=str(month["rina"].id))
    doc, pdf = _doc("asn_receipt", month["rina"].id)
    pages = page_texts(pdf)
    assert len(pages) == doc.pages >= 2
    for number, page in enumerate(pages, start=1):
        assert f"Halaman {number} dari {len(pages)}" in page
        if "Nasi pecel" in page:  # a page with rows of the list starts with its header
            assert "Tanggal Lapak (kode), kelurahan Barang Nilai" in page
    assert sum("Nasi pecel" in page for page in pages) >= 2
    count, amount = _db_sum("r.asn_id = :id", id=month["rina"].id)
    assert (count, amount) == (70, sum(1_000 + d for d in range(70)))
    assert _counted_text(count, amount) in " ".join(pages)


def test_every_receipt_line_names_its_stall_by_code(month):
    run_inline(kinds=["asn_receipt"], subject=str(month["sri"].id))
    _, pdf = _doc("asn_receipt", month["sri"].id)
    body = pdf_text(pdf)
    assert "Tanggal Lapak (kode), kelurahan Barang Nilai" in body
    # Sri's four October lines; a long name may wrap the code (after its hyphen) onto a line.
    assert re.sub(r"\s", "", body).count(f"({month['stall'].code}),") == 4


def test_merchant_recap_prints_the_phone_masked(month):
    # Staff download every recap; the number only identifies the merchant, who knows it.
    merchant = month["merchant"]
    run_inline(kinds=["merchant_recap"], subject=str(merchant.id))
    _, pdf = _doc("merchant_recap", merchant.id)
    body = pdf_text(pdf)
    assert f"Telepon: {mask_phone(merchant.phone)}" in body
    assert merchant.phone not in body


def test_qr_links_to_a_page_that_checks_the_file(month, client, tmp_path):
    run_inline(kinds=["verification_opd"], subject=str(month["opd"].id))
    doc, pdf = _doc("verification_opd", month["opd"].id)
    path = get_storage().path(doc.storage_key)
    urls = decode_qr(path, doc.pages)
    assert urls == [f"https://promkm.example.go.id/v/{doc.public_id}"]
    page_url = re.sub(r"^https://[^/]+", "", urls[0])
    html = client.get(page_url).get_data(as_text=True)
    assert doc.public_id in html and doc.checksum in html and "Laporan Verifikasi OPD" in html

    def present(data: bytes) -> str:
        """Upload a file on the verification page and return the answer page."""
        token = csrf_token(client, page_url)
        tampered = tmp_path / "dokumen.pdf"
        tampered.write_bytes(data)
        with tampered.open("rb") as handle:
            response = client.post(page_url, data={"csrf_token": token, "file": handle})
        assert response.status_code == 200
        return response.get_data(as_text=True)

    assert "Cocok: berkas ini sama persis" in present(pdf)
    changed = bytearray(pdf)
    changed[len(changed) // 2] ^= 0x01
    assert "Tidak cocok: berkas ini berbeda" in present(bytes(changed))
    assert "Berkas kosong." in present(b"")  # not "does not match"
    assert client.get("/v/tidak-ada").status_code == 404


def test_area_reports_go_first_one_per_chunk(month):
    job = create_job("documents", {"period": PERIOD, "chunk_size": 2})
    db.session.commit()
    batch.plan(job)
    kinds = dict(db.session.query(Document.id, Document.kind).filter_by(job_id=job.id).all())
    chunks = [[kinds[i] for i in chunk] for chunk in batch.pending_chunks(job)]
    areas = [c for c in chunks if KINDS[c[0]].area]
    assert areas and all(len(c) == 1 for c in areas)
    assert chunks[: len(areas)] == areas  # the long ones start first
    people = chunks[len(areas) :]
    assert {c[0] for c in people} == {"asn_receipt", "merchant_recap"}
    assert all(len(set(c)) == 1 and len(c) <= 2 for c in people) and max(map(len, people)) == 2
    assert sorted(i for chunk in batch.pending_chunks(job) for i in chunk) == sorted(kinds)
