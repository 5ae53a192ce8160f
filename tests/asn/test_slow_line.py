"""A 12 MP photo sent over a slow line (DevTools network emulation, CPU slowed 6x): the
report arrives, or waits on the phone and arrives when the line is better; never lost, never
twice. Prints the bytes sent and the time from "Kirim" to the receipt (README figures)."""

import time

import pytest
from sqlalchemy import select

from promkm_qr.extensions import db
from promkm_qr.models import PhotoUpload
from promkm_qr.stalls.links import link_token
from tests.asn.test_offline import fill_report, page_only_phone, photo, reports, sign_in  # noqa: F401


def throttle(page, up_kbit: int, down_kbit: int, rtt_ms: int, cpu: int):
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": rtt_ms,
            "uploadThroughput": up_kbit * 1000 / 8,
            "downloadThroughput": down_kbit * 1000 / 8,
        },
    )
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": cpu})
    return cdp


@pytest.mark.browser
@pytest.mark.parametrize("up_kbit", [200, 750])
def test_a_12_mp_report_on_a_slow_line_arrives_once(
    live_server,
    page_only_phone,  # noqa: F811
    asn,
    stall,
    photo,  # noqa: F811
    up_kbit,
):
    phone = page_only_phone
    sign_in(phone, live_server, asn.nip)
    phone.goto(f"{live_server}/q/{link_token(stall.code, stall.poster_version)}")
    cdp = throttle(phone, up_kbit, 400, 400, 6)
    fill_report(phone, photo)
    started = time.monotonic()
    phone.click("[data-submit]")
    phone.wait_for_function(
        "() => location.pathname.startsWith('/asn/laporan/') || "
        "!!document.querySelector('[data-queue-item]')",
        timeout=120_000,
    )
    took = time.monotonic() - started
    if "/asn/laporan/" not in phone.url:  # timed out on the phone: kept, sent later
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
        cdp.send(
            "Network.emulateNetworkConditions",
            {"offline": False, "latency": 0, "uploadThroughput": -1, "downloadThroughput": -1},
        )
        phone.goto(f"{live_server}/asn/")
        phone.wait_for_selector("[data-queue-sent]")
    assert reports() == 1
    upload = db.session.scalar(select(PhotoUpload))
    print(f"\n{up_kbit} kbit/s up: {upload.size} bytes of photo, Kirim -> receipt {took:.1f} s")
