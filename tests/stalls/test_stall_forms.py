"""The stall forms of staff and merchants: attributes as written, typed values kept on error."""

from html.parser import HTMLParser

from sqlalchemy import select

from promkm_qr.extensions import db
from promkm_qr.models import Category
from tests.conftest import csrf_token, login
from tests.factories import kelurahan, make_merchant, make_stall


class Elements(HTMLParser):
    """Every element's attributes by id, and whether a form ever opened inside a <p>."""

    def __init__(self, html: str):
        super().__init__()
        self.by_id: dict[str, dict] = {}
        self.options: dict[str, list[dict]] = {}
        self.open_p = 0
        self.form_in_p = False
        self._select = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.by_id[attrs["id"]] = {"tag": tag, **attrs}
        if tag == "p":
            self.open_p += 1
        elif tag == "form" and self.open_p:
            self.form_in_p = True
        elif tag == "select":
            self._select = attrs.get("id")
            self.options[self._select] = []
        elif tag == "option" and self._select:
            self.options[self._select].append(attrs)

    def handle_endtag(self, tag):
        if tag == "p" and self.open_p:
            self.open_p -= 1
        elif tag == "select":
            self._select = None


TYPED = {
    "inputmode": {"owner_nik": "numeric", "nib": "numeric", "lat": "decimal", "lon": "decimal"},
    "autocomplete": {"owner_nik": "off", "nib": "off", "lat": "off", "lon": "off", "phone": "off"},
}


def _assert_attributes(html: str, fields) -> None:
    assert "&#34;" not in html and "&quot;" not in html
    page = Elements(html)
    for attribute, expected in TYPED.items():
        for field, value in expected.items():
            if field in fields:
                assert page.by_id[field].get(attribute) == value, (field, attribute)
    # A required select starts on an empty placeholder, so nobody submits its first real option.
    kelurahan_select = page.by_id["kelurahan_id"]
    assert "required" in kelurahan_select
    assert page.options["kelurahan_id"][0]["value"] == ""


def test_staff_stall_form_gives_its_attributes_unescaped(client, operator):
    html = client.get("/dinas/lapak/baru").get_data(as_text=True)
    _assert_attributes(html, {"owner_nik", "nib", "lat", "lon", "phone"})
    assert Elements(html).by_id["phone"]["type"] == "tel"


def test_merchant_stall_form_gives_its_attributes_unescaped(client):
    make_merchant(phone="081299990000")
    login(client, "merchant", "081299990000")
    html = client.get("/umkm/lapak/daftar").get_data(as_text=True)
    _assert_attributes(html, {"owner_nik", "nib"})


def _selected(page: Elements, select_id: str) -> str:
    return next(o["value"] for o in page.options[select_id] if "selected" in o)


def test_staff_stall_form_keeps_what_was_typed_on_error(client, operator):
    kel = kelurahan("35.77.02.1001")
    category = db.session.scalar(select(Category).where(Category.slug == "jasa"))
    typed = {
        "name": "Warung <b>Bu</b> Sri",
        "kelurahan_id": str(kel.id),
        "category_id": str(category.id),
        "address": "Jl. Salak 3",
        "owner_nik": "12345",
        "phone": "081355556666",
        "nib": "",
        "lat": "-7,63",
        "lon": "111.52",
        "qris_payload": "",
    }
    url = "/dinas/lapak/baru"
    response = client.post(url, data={**typed, "csrf_token": csrf_token(client, url)})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    page = Elements(html)
    for name in ("name", "address", "owner_nik", "phone", "lat", "lon"):
        assert page.by_id[name]["value"] == typed[name], name
    assert _selected(page, "kelurahan_id") == str(kel.id)
    assert _selected(page, "category_id") == str(category.id)
    assert "Warung &lt;b&gt;Bu&lt;/b&gt; Sri" in html
    assert "Panjang NIK salah" in html


def test_merchant_stall_form_keeps_what_was_typed_on_error(client):
    make_merchant(phone="081299990000")
    login(client, "merchant", "081299990000")
    url = "/umkm/lapak/daftar"
    typed = {"name": "", "kelurahan_id": "", "address": "Jl. D", "owner_nik": "3577015203900004"}
    response = client.post(url, data={**typed, "csrf_token": csrf_token(client, url)})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    page = Elements(html)
    assert page.by_id["address"]["value"] == "Jl. D"
    assert page.by_id["owner_nik"]["value"] == "3577015203900004"
    assert _selected(page, "kelurahan_id") == ""
    assert "Nama usaha wajib diisi." in html and "Pilih kelurahan yang terdaftar." in html


def test_stall_page_puts_no_form_inside_a_paragraph(client, operator):
    stall = make_stall()
    html = client.get(f"/dinas/lapak/{stall.id}").get_data(as_text=True)
    assert "<form" in html and not Elements(html).form_in_p
