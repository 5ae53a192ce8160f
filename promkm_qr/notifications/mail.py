"""E-mail over SMTP: a plain-text and an HTML part with the same words and the link."""

import functools
import hashlib
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr

from flask import current_app
from markupsafe import escape

from promkm_qr.notifications.channels import Refused, Retry

TIMEOUT = 20


def message_id(notification) -> str:
    """The Message-ID, fixed by the row's idempotency key: a message sent again after a
    worker died carries the same one, so mail systems and readers can tell it is a resend."""
    digest = hashlib.sha256(notification.idempotency_key.encode()).hexdigest()[:32]
    domain = current_app.config["MAIL_FROM"].rpartition("@")[2] or "promkm"
    return f"<{digest}@{domain}>"


def tls_context() -> ssl.SSLContext:
    """Verifies the server's certificate and name: against SMTP_CA_FILE when set (a city's
    internal CA), else the system's CAs."""
    return _context(current_app.config.get("SMTP_CA_FILE") or None)


@functools.lru_cache(maxsize=4)
def _context(cafile: str | None) -> ssl.SSLContext:
    # Made once per process and CA file: loading the system's CAs costs ~20 ms a message.
    return ssl.create_default_context(cafile=cafile)


def message(notification, user) -> EmailMessage:
    """The e-mail for one reminder."""
    config = current_app.config
    mail = EmailMessage()
    mail["Subject"] = notification.subject or ""
    mail["From"] = formataddr((config.get("CITY_NAME", ""), config["MAIL_FROM"]))
    mail["To"] = formataddr((user.name, user.email))
    mail["Message-ID"] = message_id(notification)
    body = notification.body or ""
    mail.set_content(body)
    paragraphs = "".join(f"<p>{escape(line)}</p>" for line in body.splitlines())
    link = escape(notification.link or "")
    html = (
        f'<!doctype html><html lang="{escape(notification.locale)}"><body>{paragraphs}'
        f'<p><a href="{link}">{link}</a></p></body></html>'
    )
    mail.add_alternative(html, subtype="html")
    return mail


def send(notification, user) -> str:
    """Send one reminder; its Message-ID. Raises Retry or Refused."""
    config = current_app.config
    mail = message(notification, user)
    try:
        with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=TIMEOUT) as smtp:
            if config["SMTP_STARTTLS"]:
                smtp.starttls(context=tls_context())
            if config.get("SMTP_USER"):
                smtp.login(config["SMTP_USER"], config["SMTP_PASSWORD"] or "")
            smtp.send_message(mail)
    except smtplib.SMTPRecipientsRefused as exc:
        raise Refused(str(exc)[:200]) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise Retry(str(exc)[:200]) from exc
    return mail["Message-ID"]
