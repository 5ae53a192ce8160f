"""E-mail over SMTP: a plain-text and an HTML part with the same words and the link."""

import smtplib
import ssl
import uuid
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from flask import current_app
from markupsafe import escape

from promkm_qr.notifications.channels import Refused, Retry

TIMEOUT = 20


def message(notification, user) -> EmailMessage:
    """The e-mail for one reminder."""
    config = current_app.config
    mail = EmailMessage()
    mail["Subject"] = notification.subject or ""
    mail["From"] = formataddr((config.get("CITY_NAME", ""), config["MAIL_FROM"]))
    mail["To"] = formataddr((user.name, user.email))
    mail["Message-ID"] = make_msgid(idstring=uuid.uuid4().hex, domain="promkm")
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
                smtp.starttls(context=ssl.create_default_context())
            if config.get("SMTP_USER"):
                smtp.login(config["SMTP_USER"], config["SMTP_PASSWORD"] or "")
            smtp.send_message(mail)
    except smtplib.SMTPRecipientsRefused as exc:
        raise Refused(str(exc)[:200]) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise Retry(str(exc)[:200]) from exc
    return mail["Message-ID"]
