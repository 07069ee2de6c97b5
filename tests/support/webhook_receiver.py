"""A partner's webhook endpoint, run as its own process so a test can kill it.

``python -m tests.support.webhook_receiver PORT OUT SECRET`` serves on 127.0.0.1:PORT. Each
POST is verified with ``standardwebhooks`` (401 when the signature is wrong), appended to OUT
as one JSON line (id, stream, partition, offset, causation_id, data) and flushed, then
answered 204: an event the receiver acknowledged is always on disk.
"""

from __future__ import annotations

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Lock
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError

_lock = Lock()


def handler(out: Path, secret: str) -> type[BaseHTTPRequestHandler]:
    verifier = Webhook(secret)

    class Receiver(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            try:
                verifier.verify(body, dict(self.headers.items()))
            except WebhookVerificationError:
                self._answer(401)
                return
            event = json.loads(body)
            fields = ("id", "stream", "partition", "offset", "causation_id", "data")
            line = {k: event[k] for k in fields}
            line["webhook_id"] = self.headers["webhook-id"]
            with _lock, out.open("a") as file:
                file.write(json.dumps(line) + "\n")
                file.flush()
            self._answer(204)

        def _answer(self, status: int) -> None:
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Receiver


def main() -> None:
    port, out, secret = int(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    server = ThreadingHTTPServer(("127.0.0.1", port), handler(out, secret))
    server.daemon_threads = True
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
