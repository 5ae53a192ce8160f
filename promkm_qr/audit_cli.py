"""`flask --app wsgi audit verify`: check the audit trail's hash chain."""

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import func, select

from promkm_qr.audit import verify_chain
from promkm_qr.extensions import db
from promkm_qr.models import AuditEntry

audit_cli = AppGroup("audit", help="Periksa jejak audit.")


@audit_cli.command("verify")
def verify() -> None:
    """Recompute every entry's hash; name the first broken entry and exit 1 if any."""
    broken = verify_chain()
    if broken is not None:
        click.echo(f"Rantai audit rusak mulai entri #{broken}.", err=True)
        raise SystemExit(1)
    count = db.session.scalar(select(func.count(AuditEntry.id)))
    click.echo(f"Rantai audit utuh: {count} entri diperiksa.")


def register(app: Flask) -> None:
    """Add the audit command group to the flask CLI."""
    app.cli.add_command(audit_cli)
