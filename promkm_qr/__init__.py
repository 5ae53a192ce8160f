"""promkm-qr: QR posters for UMKM stalls and purchase reports by ASN."""

from pathlib import Path

import click
from flask import Flask
from flask.cli import ScriptInfo

from promkm_qr.config import ROOT, load_config


def create_app(test_config: dict | None = None) -> Flask:
    """Build the web application from the environment, or from test_config when given."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(Path(__file__).parent / "static"),
    )
    app.config.from_mapping(load_config())
    if test_config:
        app.config.update(test_config)
    Path(app.config["INSTANCE_DIR"]).mkdir(parents=True, exist_ok=True)
    Path(app.config["STORAGE_DIR"]).mkdir(parents=True, exist_ok=True)

    from promkm_qr import assets, cli, errors, logs, monitoring, tasks, web

    logs.configure(app)  # first, so the request id is there for every later hook
    web.register_extensions(app)
    web.register_blueprints(app)
    web.register_template_helpers(app)
    assets.register(app)
    web.register_security(app)
    errors.register(app)
    errors.init_sentry(app)
    monitoring.register(app)
    cli.register(app)
    tasks.celery_init_app(app)
    if app.config["PROMKM_ENV"] == "production" and not _loaded_by_flask_cli():
        from promkm_qr import deployment

        deployment.refuse_unsafe_start(app)
    return app


def _loaded_by_flask_cli() -> bool:
    """Whether `flask --app wsgi ...` builds the app: its commands (check-deploy, setup,
    create-user) are how a production machine is made safe, so they must run."""
    context = click.get_current_context(silent=True)
    return context is not None and context.find_object(ScriptInfo) is not None
