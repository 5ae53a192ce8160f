"""The "Pindai QR" page: a typed stall code, and the scanner's decoder served by the app."""

from tests.conftest import csrf_token
from tests.factories import make_stall


def test_a_typed_stall_code_opens_the_form(signed_in, stall):
    token = csrf_token(signed_in, "/asn/pindai")
    typed = stall.code.replace("-", " - ").replace("000", "", 1)
    response = signed_in.post("/asn/pindai", data={"csrf_token": token, "code": typed})
    assert response.status_code == 302
    assert f"/asn/lapor/{stall.code}." in response.headers["Location"]


def test_an_unknown_or_suspended_code_is_refused_and_kept(signed_in):
    suspended = make_stall(status="suspended")
    for code in ("3577011001-99999", suspended.code, "bukan kode"):
        token = csrf_token(signed_in, "/asn/pindai")
        response = signed_in.post("/asn/pindai", data={"csrf_token": token, "code": code})
        html = response.get_data(as_text=True)
        assert response.status_code == 400
        assert "Kode lapak tidak ditemukan atau lapak tidak aktif." in html
        assert f'value="{code}"' in html


def test_the_scanner_page_uses_only_its_own_scripts(signed_in):
    html = signed_in.get("/asn/pindai").get_data(as_text=True)
    assert "asn-scan.js" in html and "/asn/vendor/jsQR.js" in html
    assert "<script>" not in html and "http" not in html.split("<main>")[1].split("</main>")[0]
    decoder = signed_in.get("/asn/vendor/jsQR.js")
    assert decoder.status_code == 200 and b"jsQR" in decoder.get_data()
    decoder.close()
    assert signed_in.get("/asn/vendor/package.json").status_code == 404
