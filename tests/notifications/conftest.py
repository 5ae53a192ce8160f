"""The WhatsApp stand-in, and the app configured to use it for one test."""

import pytest

from promkm_qr.notifications import store, whatsapp
from tests.notifications.loopback import PHONE_ID, TOKEN, CloudApi


@pytest.fixture
def cloud_api(app, monkeypatch):
    """A loopback Cloud API the app sends WhatsApp messages to."""
    api = CloudApi().start()
    monkeypatch.setitem(app.config, "WHATSAPP_API_URL", api.url)
    monkeypatch.setitem(app.config, "WHATSAPP_TOKEN", TOKEN)
    monkeypatch.setitem(app.config, "WHATSAPP_PHONE_NUMBER_ID", PHONE_ID)
    yield api
    whatsapp.close()
    api.stop()


@pytest.fixture(autouse=True)
def _deliveries_stay_in_the_outbox(request, monkeypatch):
    """These tests run the delivery task's code themselves, at the times they choose: the
    outbox messages composing writes are kept in the table (test_composing_twice_adds_nothing
    reads them), not sent to the session's worker, which would deliver them at its own time.
    Tests marked `worker` (test_broker_down.py) send them through a real worker."""
    if request.node.get_closest_marker("worker") is None:
        monkeypatch.setattr(store.outbox, "send_pending", lambda messages: None)
