"""Worker and beat entry: `celery -A celery_worker worker` and `celery -A celery_worker beat`."""

import sys

from promkm_qr import create_app
from promkm_qr.deployment import UnsafeDeployment

try:
    flask_app = create_app()
except UnsafeDeployment as exc:
    sys.exit(str(exc))  # the problems and their fixes, without a traceback; exit status 1
celery_app = flask_app.extensions["celery"]
