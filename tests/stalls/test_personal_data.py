"""Personal data of stall owners: masked for every staff role except where an operator edits
it, and every staff view of one owner's NIK or phone written to the hash-chained audit trail."""

import pytest
from sqlalchemy import select

from promkm_qr import audit
from promkm_qr.extensions import db
from promkm_qr.models import AuditEntry
from tests.conftest import login
from tests.factories import make_merchant, make_staff, make_stall

NIK, NIK_MASKED = "3577014107850002", "3577**********02"
PHONE, PHONE_MASKED = "081355551234", "0813*****234"


@pytest.fixture
def stall(app):
    """A stall whose owner's NIK and phone are on record."""
    return make_stall(owner=make_merchant(phone="081200000001"), owner_nik=NIK, phone=PHONE)


def _views() -> list[AuditEntry]:
    db.session.rollback()
    return db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "personal_data.viewed")
    ).all()


def _staff_client(app, role: str, **scope):
    user = make_staff(role, username=f"{role}-{len(scope)}", **scope)
    client = app.test_client()
    assert login(client, "dinas", user.username).status_code == 302
    return client, user


@pytest.mark.parametrize("role", ["admin", "operator", "reviewer", "viewer"])
def test_the_stall_page_masks_nik_and_phone_and_records_who_looked(app, stall, role):
    client, user = _staff_client(app, role)
    html = client.get(f"/dinas/lapak/{stall.id}").get_data(as_text=True)
    assert NIK_MASKED in html and PHONE_MASKED in html
    assert NIK not in html and PHONE not in html
    [entry] = _views()
    assert (entry.actor_id, entry.object_type, entry.object_id) == (user.id, "stall", str(stall.id))
    assert entry.data == {
        "page": f"/dinas/lapak/{stall.id}",
        "shown": {"owner_nik": "masked", "phone": "masked"},
    }
    assert audit.verify_chain() is None


@pytest.mark.parametrize("role", ["admin", "operator"])
def test_operators_see_the_full_values_on_the_edit_form_and_that_is_recorded(app, stall, role):
    client, user = _staff_client(app, role)
    html = client.get(f"/dinas/lapak/{stall.id}/ubah").get_data(as_text=True)
    assert f'value="{NIK}"' in html and f'value="{PHONE}"' in html
    [entry] = _views()
    assert entry.actor_id == user.id
    assert entry.data["shown"] == {"owner_nik": "full", "phone": "full"}
    assert entry.data["page"] == f"/dinas/lapak/{stall.id}/ubah"


@pytest.mark.parametrize("role", ["reviewer", "viewer"])
def test_other_roles_cannot_open_the_full_values(app, stall, role):
    client, _user = _staff_client(app, role)
    response = client.get(f"/dinas/lapak/{stall.id}/ubah")
    assert response.status_code == 403
    assert NIK not in response.get_data(as_text=True)
    assert _views() == []


def test_staff_outside_the_area_see_nothing_and_nothing_is_recorded(app, stall):
    from tests.factories import kelurahan

    other = kelurahan("35.77.03.1002")
    client, _user = _staff_client(app, "viewer", scope_kelurahan_id=other.id)
    assert client.get(f"/dinas/lapak/{stall.id}").status_code == 404
    assert _views() == []


def test_a_stall_without_personal_data_records_no_view(app):
    bare = make_stall()
    client, _user = _staff_client(app, "viewer")
    assert client.get(f"/dinas/lapak/{bare.id}").status_code == 200
    assert _views() == []


@pytest.mark.parametrize("role", ["admin", "operator", "reviewer", "viewer"])
def test_lists_and_exports_never_show_the_full_values(app, stall, role):
    client, _user = _staff_client(app, role)
    pages = [
        client.get("/dinas/lapak").get_data(as_text=True),
        client.get("/dinas/lapak?q=Warung").get_data(as_text=True),
        client.get("/dinas/ekspor/lapak.csv").get_data(as_text=True),
    ]
    for page in pages:
        assert NIK not in page and PHONE not in page
    assert PHONE_MASKED in pages[2]
    assert _views() == []  # lists show no one's personal data in full or masked
