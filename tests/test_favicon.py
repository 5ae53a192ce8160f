"""/favicon.ico answers with the app's mark, cached long, and every page points to it."""

from tests.conftest import login
from tests.factories import make_asn


def test_favicon_is_the_apps_mark_cached_long(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert response.cache_control.public and response.cache_control.max_age >= 7 * 24 * 3600
    assert response.data.startswith(b'<svg xmlns="http://www.w3.org/2000/svg"')
    assert "#0b6e4f" in response.get_data(as_text=True)  # the top bar's brand colour


def test_pages_signed_in_or_not_link_the_icon(client):
    link = '<link rel="icon" href="/favicon.ico" type="image/svg+xml">'
    assert link in client.get("/auth/masuk").get_data(as_text=True)
    assert link in client.get("/tidak-ada").get_data(as_text=True)  # the 404 page too
    make_asn(nip="198609262015051001")
    login(client, "asn", "198609262015051001")
    assert link in client.get("/asn/").get_data(as_text=True)
    # Signed in, the icon is still cached (pages themselves are private, no-store).
    assert client.get("/favicon.ico").cache_control.public
