"""Command-line tasks: `flask --app wsgi <command>`."""

import click
from flask import Flask, current_app
from flask_migrate import upgrade
from sqlalchemy import func, select

from promkm_qr import audit_cli, reference
from promkm_qr.accounts.passwords import WeakPassword
from promkm_qr.api import cli as api_cli
from promkm_qr.auth.services import LoginError, create_user
from promkm_qr.core.text import HiddenCharacter
from promkm_qr.extensions import db
from promkm_qr.models import User


def register(app: Flask) -> None:
    """Add the project's commands to the flask CLI."""
    audit_cli.register(app)
    api_cli.register(app)

    @app.cli.command("setup")
    @click.option("--demo/--no-demo", default=False, help="Load demo data into an empty database.")
    def setup(demo: bool) -> None:
        """Migrate the database, load regions and defaults, and demo data when asked."""
        if demo and current_app.config["PROMKM_ENV"] == "production":
            raise click.UsageError("PROMKM_ENV=production never loads demo data")
        upgrade()
        reference.load_regions(current_app.config["REGIONS_CSV"])
        reference.seed_defaults()
        if demo and not db.session.scalar(select(func.count(User.id))):
            from promkm_qr.demo import build_demo

            summary = build_demo()
            click.echo(f"Demo data: {summary}")

    @app.cli.command("check-deploy")
    @click.option("--reference", help="Another machine's fingerprint, to compare with.")
    def check_deploy(reference: str | None) -> None:
        """List what makes this machine unsafe for production; exit 1 if anything does."""
        from promkm_qr import deployment

        found = deployment.problems(current_app)
        if reference:
            found += deployment.differences(current_app, reference)
        click.echo(f"fingerprint: {deployment.fingerprint(current_app)}")
        for problem in found:
            click.echo(f"PROBLEM {problem}", err=True)
        if found:
            raise click.exceptions.Exit(1)
        click.echo("ready for production")

    @app.cli.command("load-regions")
    @click.argument("path", required=False)
    def load_regions(path: str | None) -> None:
        """Load kecamatan and kelurahan from a kode_wilayah,kecamatan,kelurahan CSV."""
        count = reference.load_regions(path or current_app.config["REGIONS_CSV"])
        click.echo(f"{count} kelurahan loaded")

    @app.cli.command("create-user")
    @click.option("--role", type=click.Choice(["asn", "merchant", "dinas"]), required=True)
    @click.option("--name", required=True)
    @click.option("--login", "identifier", required=True, help="NIP, phone or username")
    @click.option("--staff-role", type=click.Choice(["admin", "operator", "reviewer", "viewer"]))
    @click.password_option()
    def create_user_command(role, name, identifier, staff_role, password) -> None:
        """Create an account of any role."""
        fields = {"staff_role": staff_role or "admin"} if role == "dinas" else {}
        try:
            user = create_user(role, name, identifier, password, **fields)
        except LoginError as exc:
            raise click.BadParameter(exc.message, param_hint="--login") from exc
        except HiddenCharacter as exc:
            raise click.BadParameter(str(exc), param_hint="--name") from exc
        except WeakPassword as exc:
            raise click.BadParameter(str(exc), param_hint="--password") from exc
        db.session.commit()
        click.echo(f"created {user.role} account #{user.id}")

    @app.cli.command("backup")
    @click.argument("dest")
    def backup(dest: str) -> None:
        """Write a consistent backup (database + stored files) into a new directory DEST."""
        from promkm_qr.backup import create_backup

        manifest = create_backup(dest)
        click.echo(f"backup written to {dest}: database {manifest['database']['sha256'][:12]}")

    @app.cli.command("restore")
    @click.argument("src")
    def restore(src: str) -> None:
        """Restore a backup directory into an empty database and storage directory."""
        from promkm_qr.backup import restore_backup

        manifest = restore_backup(src)
        click.echo(f"restored from {src}")
        if manifest["key_warning"]:
            click.echo(f"WARNING: {manifest['key_warning']}", err=True)

    @app.cli.command("rollups")
    @click.argument("action", type=click.Choice(["fold", "rebuild"]))
    def rollups_command(action: str) -> None:
        """Fold pending dashboard deltas now, or rebuild every rollup from the reports."""
        from promkm_qr.dashboard import rollups

        if action == "fold":
            click.echo(f"folded {rollups.fold()} delta rows")
        else:
            rollups.rebuild()
            click.echo("rollups rebuilt from the reports")

    @app.cli.command("demo-data")
    @click.option("--stalls", default=300, show_default=True)
    @click.option("--asn", "asn_count", default=120, show_default=True)
    @click.option("--months", default=3, show_default=True)
    @click.option("--seed", default=7, show_default=True)
    def demo_data(stalls: int, asn_count: int, months: int, seed: int) -> None:
        """Generate a believable dataset of the given size."""
        from promkm_qr.demo import build_demo

        click.echo(build_demo(stalls=stalls, asn=asn_count, months=months, seed=seed))
