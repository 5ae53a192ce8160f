"""The report form asks for the phone's position only when the ASN taps for it, saying why."""

import pytest

from tests.conftest import PASSWORD

# Counts the page's position requests (each one a permission prompt on a phone not yet asked).
COUNT_REQUESTS = """
window.positionRequests = 0;
const ask = navigator.geolocation.getCurrentPosition.bind(navigator.geolocation);
navigator.geolocation.getCurrentPosition = function (...args) {
  window.positionRequests += 1;
  return ask(...args);
};
"""


@pytest.mark.browser
def test_position_is_asked_for_on_a_tap_with_the_reason(live_server, phone, asn, form_url):
    phone.add_init_script(COUNT_REQUESTS)
    phone.goto(f"{live_server}{form_url}")
    phone.fill("input[name=identifier]", asn.nip)
    phone.fill("input[name=password]", PASSWORD)
    phone.click("button:has-text('Masuk')")
    phone.wait_for_url("**/asn/lapor/**")
    phone.wait_for_load_state("load")  # the deferred script has run

    assert phone.evaluate("window.positionRequests") == 0
    button = phone.locator("[data-location-button]")
    button.wait_for(state="visible")
    reason = phone.inner_text("#location-why")
    assert "membantu dinas memastikan" in reason and "Boleh dilewati" in reason

    phone.context.grant_permissions(["geolocation"], origin=live_server)
    phone.context.set_geolocation({"latitude": -7.6298, "longitude": 111.5239})
    button.click()
    phone.wait_for_selector("[data-location-status]:not([hidden])")
    assert phone.evaluate("window.positionRequests") == 1
    assert phone.input_value("input[name=lat]") == "-7.6298000"
    assert phone.locator("[data-location]").is_hidden()
