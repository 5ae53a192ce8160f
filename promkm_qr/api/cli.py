"""`flask --app wsgi api-client ...`: make, list and revoke API clients on the server."""

from datetime import timedelta

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from promkm_qr.api import clients
from promkm_qr.extensions import db
from promkm_qr.models import Opd
from promkm_qr.models.base import utcnow

api_client_cli = AppGroup("api-client", help="Klien API (sistem lain milik kota).")


@api_client_cli.command("create")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, required=True, type=click.Choice(clients.SCOPES))
@click.option("--opd", "opd_code", help="Kode OPD: klien hanya melihat OPD ini.")
@click.option("--days", type=click.IntRange(1, 3650), help="Masa berlaku token (hari).")
def create(name: str, scopes: tuple[str, ...], opd_code: str | None, days: int | None) -> None:
    """Make a client; the token is printed once, alone on the last line."""
    opd_id = None
    if opd_code:
        opd_id = db.session.scalar(select(Opd.id).where(Opd.code == opd_code))
        if opd_id is None:
            raise click.UsageError(f"OPD {opd_code} tidak ada")
    expires_at = utcnow() + timedelta(days=days) if days else None
    client_id, token = clients.create_client(
        name, list(scopes), opd_id=opd_id, expires_at=expires_at
    )
    click.echo(f"Klien #{client_id} dibuat; token hanya ditampilkan sekali:")
    click.echo(token)


@api_client_cli.command("list")
def list_() -> None:
    """One line per client: id, name, scopes, state."""
    for client in clients.list_clients():
        state = "dicabut" if client.revoked_at else "aktif"
        click.echo(f"{client.id}\t{client.name}\t{' '.join(client.scopes)}\t{state}")


@api_client_cli.command("revoke")
@click.argument("client_id", type=int)
def revoke(client_id: int) -> None:
    """Revoke a client's token at once."""
    if not clients.revoke_client(client_id, None):
        raise click.UsageError(f"Klien #{client_id} tidak ada atau sudah dicabut")
    click.echo(f"Klien #{client_id} dicabut.")


def register(app: Flask) -> None:
    """Add the api-client command group to the flask CLI."""
    app.cli.add_command(api_client_cli)
