"""Posters, table cards and sticker sheets: real PDFs, rasterised and decoded by zxing-cpp."""

import subprocess

import pytest
from PIL import Image
from sqlalchemy import func, select

from promkm_qr.core.qr import qr_version
from promkm_qr.extensions import db
from promkm_qr.models import PosterPrint
from promkm_qr.stalls import links, posters
from tests.factories import make_staff, make_stall
from tests.stalls.conftest import decode_pages, page_count, pdf_text
from tests.support.pdf_files import pdffonts

HOSTILE = '<img src="file:///etc/passwd"> & "Warung Bu Sri"'


@pytest.mark.parametrize("fmt", ["poster", "card"])
def test_poster_qr_decodes_to_exactly_the_stall_url(app, tmp_path, fmt):
    stall = make_stall(name="Pecel Bu Tutik")
    with app.test_request_context():
        url = links.poster_url(stall.code, stall.poster_version)
        pdf = posters.render_labels(fmt, posters.stall_labels([stall.id]))
    assert decode_pages(pdf, tmp_path) == [[url]]
    assert qr_version(url) <= 5
    text = pdf_text(pdf)
    assert stall.code in text, text
    assert "Pecel Bu Tutik" in text and "Oro-oro Ombo" in text
    assert "Pindai" in text or "pindai" in text


def test_sticker_sheet_every_label_decodes_to_its_own_stall(app, tmp_path):
    stalls = [make_stall(name=f"Lapak {n}") for n in range(14)]
    with app.test_request_context():
        urls = [links.poster_url(s.code, s.poster_version) for s in stalls]
        pdf = posters.render_labels("stickers", posters.stall_labels([s.id for s in stalls]))
    pages = decode_pages(pdf, tmp_path)
    assert [len(p) for p in pages] == [12, 2]
    assert sorted(pages[0]) == sorted(urls[:12])
    assert sorted(pages[1]) == sorted(urls[12:])
    text = pdf_text(pdf)
    assert all(s.code in text for s in stalls)


def test_hostile_name_prints_literally_and_no_file_reaches_the_pdf(app, tmp_path):
    stall = make_stall(name=HOSTILE)
    with app.test_request_context():
        pdf = posters.render_labels("poster", posters.stall_labels([stall.id]))
    assert HOSTILE in pdf_text(pdf)
    with open("/etc/passwd", "rb") as handle:
        first_line = handle.readline().strip()
    assert first_line not in pdf
    assert b"root:" not in pdf
    # Only the QR image is embedded: the name's <img> was text, not an element.
    assert pdf.count(b"/Subtype /Image") == 1


def test_javanese_name_prints(app, tmp_path):
    stall = make_stall(name="Warung ꦮꦫꦸꦁ")
    with app.test_request_context():
        pdf = posters.render_labels("card", posters.stall_labels([stall.id]))
    assert "ꦮꦫꦸꦁ" in pdf_text(pdf)


def _warm_pixels(pdf: bytes, tmp_path) -> int:
    """Pixels of the first page (pdftoppm, 100 dpi) clearly redder than green and blue: nothing
    a poster prints in black, grey or its green has them; a colour emoji has many."""
    (tmp_path / "name.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "100", "-png", "-singlefile", "-f", "1", "-l", "1", "name.pdf", "page"],
        cwd=tmp_path,
        check=True,
    )
    image = Image.open(tmp_path / "page.png").convert("RGB")
    return sum(1 for r, g, b in image.get_flattened_data() if r > g + 40 and r > b + 40)


@pytest.mark.parametrize("fmt", posters.FORMATS)
def test_emoji_in_a_name_prints_in_colour(app, tmp_path, fmt):
    # Users type emoji into names: printed in colour from the Debian package's font (in
    # scripts/system_deps.sh), not as an empty box.
    stall = make_stall(name="Mie Ayam 🍜 Pak Budi")
    plain = make_stall(name="Mie Ayam Pak Budi")
    with app.test_request_context():
        pdf = posters.render_labels(fmt, posters.stall_labels([stall.id]))
        without = posters.render_labels(fmt, posters.stall_labels([plain.id]))
    assert "Mie Ayam 🍜 Pak Budi" in pdf_text(pdf)
    assert any("+Noto-Color-Emoji" in name for name, _ in pdffonts(pdf)), pdffonts(pdf)
    assert _warm_pixels(without, tmp_path) == 0
    assert _warm_pixels(pdf, tmp_path) >= 20


def test_reprint_with_revoke_bumps_version_and_records_the_print(app):
    staff = make_staff("operator")
    stall = make_stall()
    with app.test_request_context():
        old = links.link_token(stall.code, 1)
        pdf = posters.print_one(stall, "poster", revoke=True, actor_id=staff.id)
        assert page_count(pdf) == 1
        assert stall.poster_version == 2
        with pytest.raises(links.LinkRefused) as refused:
            links.resolve(old)
        assert refused.value.reason == "revoked"
        assert links.resolve(links.link_token(stall.code, 2)).id == stall.id
    prints = db.session.scalars(select(PosterPrint)).all()
    assert [(p.version, p.format, p.printed_by_id) for p in prints] == [(2, "poster", staff.id)]


def test_single_poster_download_from_the_stall_page(client, operator, tmp_path):
    stall = make_stall()
    from tests.conftest import csrf_token

    token = csrf_token(client, f"/dinas/lapak/{stall.id}")
    response = client.post(
        f"/dinas/lapak/{stall.id}/poster",
        data={"csrf_token": token, "format": "card", "revoke": "1"},
    )
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert page_count(response.data) == 1
    db.session.refresh(stall)
    assert stall.poster_version == 2
    assert db.session.scalar(select(func.count(PosterPrint.id))) == 1


def test_a_base_url_too_long_for_a_small_qr_is_refused(app):
    with pytest.raises(ValueError, match="PUBLIC_BASE_URL"):
        posters.qr_image("https://" + "x" * 120 + ".go.id/q/3577011001-00001.1.AAAAAAAAAAAA")
