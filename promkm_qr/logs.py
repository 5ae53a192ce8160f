"""Log lines as JSON objects (LOG_FORMAT=json), each with the request id that caused it.

The id comes from nginx (X-Request-ID) or is made here, is sent back in the response, and
travels in the headers of every task the request sends, so a report can be followed from
its POST to its photo task and rules. Messages the outbox flush sends later, from beat's
task, carry the flush's own id (none): follow those by the report id in the line.
"""

import contextvars
import json
import logging
import re
import sys
import uuid
from datetime import UTC, datetime

from celery.signals import (
    after_setup_logger,
    after_setup_task_logger,
    before_task_publish,
    task_postrun,
    task_prerun,
)
from flask import Flask, request

HEADER = "X-Request-ID"
_VALID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")  # nothing that could forge a log line
current_request_id = contextvars.ContextVar("request_id", default=None)
_json_logs = False


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, request_id."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": current_request_id.get(),
        }
        task = getattr(record, "task_name", None)
        if task:
            line["task"] = task
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def _use_json(logger: logging.Logger) -> None:
    for handler in logger.handlers:
        handler.setFormatter(JsonFormatter())


def configure(app: Flask) -> None:
    """JSON lines on stderr when LOG_FORMAT=json (the default in production)."""
    global _json_logs  # read by the Celery signals below, which have no app at hand
    _json_logs = app.config["LOG_FORMAT"] == "json"
    if _json_logs:
        root = logging.getLogger()
        if not root.handlers:
            root.addHandler(logging.StreamHandler(sys.stderr))
        root.setLevel(logging.INFO)
        # A line per layout step of every PDF: noise at INFO.
        logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
        _use_json(root)

    @app.before_request
    def take_request_id():
        given = request.headers.get(HEADER, "")
        current_request_id.set(given if _VALID.match(given) else uuid.uuid4().hex)

    @app.after_request
    def send_request_id(response):
        response.headers[HEADER] = current_request_id.get() or ""
        return response


@after_setup_logger.connect
@after_setup_task_logger.connect
def _celery_logs_as_json(logger, **_kwargs) -> None:
    if _json_logs:
        _use_json(logger)


@before_task_publish.connect
def _send_request_id(headers=None, **_kwargs) -> None:
    request_id = current_request_id.get()
    if request_id and headers is not None:
        headers["request_id"] = request_id


@task_prerun.connect
def _take_request_id(task=None, **_kwargs) -> None:
    current_request_id.set(getattr(task.request, "request_id", None) if task else None)


@task_postrun.connect
def _forget_request_id(**_kwargs) -> None:
    current_request_id.set(None)
