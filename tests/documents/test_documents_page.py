"""The documents page on a first visit: last month in the field, a button that says so, no error."""

import re

from promkm_qr.core.dates import now_wib
from tests.conftest import login
from tests.factories import make_staff


def _last_month() -> str:
    today = now_wib()
    return f"{today.year - 1}-12" if today.month == 1 else f"{today.year}-{today.month - 1:02d}"


def test_first_visit_names_the_month_in_the_field_without_an_error(client):
    make_staff("operator", username="operator")
    login(client, "dinas", "operator")
    html = client.get("/dinas/dokumen").get_data(as_text=True)
    begin = html.index('class="doc-start"')
    start = html[begin : html.index("</form>", begin)]
    assert re.search(rf'name="period"[^>]*value="{_last_month()}"', start)
    button = re.search(r"<button[^>]*>([^<]*)</button>", start).group(1)
    # The field holds last month, so the button must not say "this month".
    assert button == "Buat semua dokumen bulan itu"
    assert 'role="alert"' not in html and "has-error" not in html
    english = client.get("/dinas/dokumen?lang=en").get_data(as_text=True)
    assert "Make every document of that month" in english and "this month" not in english
