"""In a real browser: staff sign in, change the dashboard period and download an XLSX."""

import pytest
from openpyxl import load_workbook

from tests.conftest import PASSWORD, browser_second_step
from tests.factories import make_staff


@pytest.mark.browser
def test_staff_download_the_month_as_xlsx(app, browser, live_server, city, tmp_path):
    make_staff("viewer", username="pengamat")
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="id-ID", accept_downloads=True
    )
    page = context.new_page()
    try:
        page.goto(f"{live_server}/auth/masuk?peran=dinas")
        page.get_by_label("Petugas").check()
        page.fill("#identifier", "pengamat")
        page.fill("#password", PASSWORD)
        page.get_by_role("button", name="Masuk").click()
        browser_second_step(page, app, "pengamat")
        page.wait_for_url(f"{live_server}/dinas/dasbor")
        page.fill("#mulai", "2026-03-01")
        page.fill("#sampai", "2026-03-31")
        page.get_by_role("button", name="Tampilkan").click()
        page.wait_for_url("**/dinas/dasbor?mulai=2026-03-01*")
        assert page.locator("[data-total=amount]").inner_text() == "Rp160.000"
        with page.expect_download() as info:
            page.click("[data-export=laporan-xlsx]")
        path = tmp_path / info.value.suggested_filename
        info.value.save_as(path)
    finally:
        context.close()
    sheet = load_workbook(path).active
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert header[3] == "Nominal"
    counted = [r for r in rows if r[2] in ("submitted", "confirmed", "verified")]
    assert sum(r[3] for r in counted) == 160_000 and len(rows) == 6
    assert sheet.cell(row=2, column=4).number_format == '"Rp"#,##0'
    assert sheet.cell(row=2, column=2).is_date
