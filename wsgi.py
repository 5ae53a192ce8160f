"""Web entry point: `gunicorn wsgi:app` (and `flask --app wsgi ...` for the CLI)."""

from promkm_qr import create_app

app = create_app()
