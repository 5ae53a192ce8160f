"""Who may download which document: the owner, staff by role and scope; others get 404."""

from promkm_qr.extensions import db
from promkm_qr.models import Document, Job, OutboxMessage
from tests.conftest import csrf_token, login
from tests.documents.conftest import PERIOD, run_inline
from tests.factories import kelurahan, make_staff


def _status(client, url: str) -> int:
    """The status of a GET, its streamed file closed."""
    response = client.get(url)
    response.close()
    return response.status_code


def _doc(kind: str, subject) -> Document:
    """The generated document of a kind and subject."""
    return db.session.query(Document).filter_by(kind=kind, subject=str(subject)).one()


def test_people_download_only_their_own_document(app, month):
    run_inline(kinds=["asn_receipt", "merchant_recap"])
    sri, budi = _doc("asn_receipt", month["sri"].id), _doc("asn_receipt", month["budi"].id)
    recap = _doc("merchant_recap", month["merchant"].id)
    asn = app.test_client()
    login(asn, "asn", month["sri"].nip)
    with asn.get(f"/dokumen/{sri.public_id}/unduh") as response:
        assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert _status(asn, f"/dokumen/{budi.public_id}/unduh") == 404
    assert _status(asn, f"/dokumen/{recap.public_id}/unduh") == 404
    assert "Rekap Belanja ASN" in asn.get("/dokumen/saya").get_data(as_text=True)
    merchant = app.test_client()
    login(merchant, "merchant", month["merchant"].phone)
    assert _status(merchant, f"/dokumen/{recap.public_id}/unduh") == 200
    assert _status(merchant, f"/dokumen/{sri.public_id}/unduh") == 404


def test_staff_see_by_scope_and_start_by_role(app, month):
    run_inline(kinds=["verification_kelurahan", "asn_receipt"])
    home = month["stall"].kelurahan_id
    other = kelurahan("35.77.02.1001").id
    make_staff("viewer", username="lihat")
    make_staff("operator", username="wilayah", scope_kelurahan_id=home)
    viewer = app.test_client()
    login(viewer, "dinas", "lihat")
    receipt = _doc("asn_receipt", month["sri"].id)
    assert _status(viewer, f"/dinas/dokumen/{receipt.id}/unduh") == 200
    token = csrf_token(viewer, f"/dinas/dokumen?periode={PERIOD}")
    start = viewer.post("/dinas/dokumen/buat", data={"csrf_token": token, "period": PERIOD})
    assert start.status_code == 403
    scoped = app.test_client()
    login(scoped, "dinas", "wilayah")
    own, foreign = _doc("verification_kelurahan", home), _doc("verification_kelurahan", other)
    assert _status(scoped, f"/dinas/dokumen/{own.id}/unduh") == 200
    assert _status(scoped, f"/dinas/dokumen/{foreign.id}/unduh") == 404
    assert _status(scoped, f"/dinas/dokumen/{receipt.id}/unduh") == 404
    page = scoped.get(f"/dinas/dokumen?periode={PERIOD}").get_data(as_text=True)
    assert "(1)" in page
    token = csrf_token(scoped, f"/dinas/dokumen?periode={PERIOD}")
    # A kelurahan operator may remake their own report, not start the whole city's batch.
    again = scoped.post(f"/dinas/dokumen/{own.id}/buat-ulang", data={"csrf_token": token})
    assert again.status_code == 302
    started = db.session.query(Job).filter(Job.created_by_id.is_not(None))
    job = started.one()
    assert job.params == {
        "period": PERIOD,
        "kinds": ["verification_kelurahan"],
        "subject": str(home),
    }
    assert db.session.query(OutboxMessage).one().args == [job.id]
    city = scoped.post("/dinas/dokumen/buat", data={"csrf_token": token, "period": PERIOD})
    assert city.status_code == 302 and started.count() == 1
    assert scoped.post(f"/dinas/dokumen/{own.id}/buat-ulang").status_code == 400  # no CSRF
