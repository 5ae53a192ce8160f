"""The WhatsApp stand-in, and the app configured to use it for one test."""

import pytest

from promkm_qr.notifications import whatsapp
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
