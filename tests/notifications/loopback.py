"""A loopback stand-in for the WhatsApp Cloud API that checks each request's format.

Answers are scripted: each request takes the next (status, JSON) of `answers`, and once
they run out every request gets a message id. Requests that break the documented format are
answered 400 and recorded in `malformed`. `delay` (seconds) makes every answer late, as a
slow API's are: a request is recorded when it arrives, before the wait.
"""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN = "test-token"
PHONE_ID = "1234567890"


def format_errors(path: str, headers, body: dict) -> list[str]:
    """What is wrong with a template message request, by Meta's documented format."""
    errors = []
    if path.split("/")[-2:] != [PHONE_ID, "messages"] or not path.startswith("/v"):
        errors.append(f"path {path}")
    if headers.get("Authorization") != f"Bearer {TOKEN}":
        errors.append("authorization")
    if not headers.get("Content-Type", "").startswith("application/json"):
        errors.append("content type")
    if body.get("messaging_product") != "whatsapp" or body.get("type") != "template":
        errors.append("product or type")
    if not str(body.get("to", "")).startswith("+62"):
        errors.append("to is not E.164 +62")
    template = body.get("template") or {}
    if not template.get("name") or not (template.get("language") or {}).get("code"):
        errors.append("template name or language")
    for component in template.get("components", []):
        if component.get("type") != "body":
            errors.append("component type")
        for parameter in component.get("parameters", []):
            if parameter.get("type") != "text" or not isinstance(parameter.get("text"), str):
                errors.append("parameter")
    return errors


class CloudApi:
    """The server: start(), url, requests (bodies received), answers, stop()."""

    def __init__(self):
        self.requests: list[dict] = []
        self.malformed: list[list[str]] = []
        self.answers: list[tuple[int, dict]] = []
        self.delay = 0.0
        api = self

        class Handler(BaseHTTPRequestHandler):
            # The answer's headers and body go out in two writes: without this, the
            # client's delayed ACK holds the second one for 40 ms.
            disable_nagle_algorithm = True
            # Keep-alive, as the Cloud API answers.
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                api.requests.append(body)
                errors = format_errors(self.path, self.headers, body)
                if errors:
                    api.malformed.append(errors)
                    status, answer = 400, {"error": {"code": 100, "message": "; ".join(errors)}}
                elif api.answers:
                    status, answer = api.answers.pop(0)
                else:
                    n = len(api.requests)
                    answer = {
                        "messaging_product": "whatsapp",
                        "contacts": [{"input": body["to"], "wa_id": body["to"][1:]}],
                        "messages": [{"id": f"wamid.TEST{n}"}],
                    }
                    status = 200
                if api.delay:
                    time.sleep(api.delay)
                data = json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except ConnectionError:
                    self.close_connection = True  # the client died waiting (a killed worker)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/v21.0"

    def start(self) -> "CloudApi":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
