"""Small receivers for the notification end-to-end test (tests/e2e/test_notify.py).

    smtp_server.py smtp DIR HOST PORT      a real SMTP server (Debian's aiosmtpd; run it
                                            with /usr/bin/python3) that stores each message
    smtp_server.py webhook DIR HOST PORT   an HTTP server that stores each POST

Each received item is written atomically as DIR/<time>-<n>.json:
  smtp:    {"mail_from", "rcpt_tos", "data"}           (data: the raw message, latin-1)
  webhook: {"path", "headers": {name: value}, "body"}  (body: the raw body, latin-1)
Both run until SIGTERM/SIGINT and print "ready" on stdout once listening.
"""

import http.server
import itertools
import json
import os
import signal
import sys
import threading
import time

_counter = itertools.count()
_lock = threading.Lock()


def store(directory, record):
    with _lock:
        n = next(_counter)
    name = f"{time.time():.6f}-{os.getpid()}-{n}"
    tmp = os.path.join(directory, "." + name + ".tmp")
    with open(tmp, "w") as f:
        json.dump(record, f)
    os.replace(tmp, os.path.join(directory, name + ".json"))


def wait_for_signal():
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    print("ready", flush=True)
    while not done.wait(0.2):
        pass


def run_smtp(directory, host, port):
    from aiosmtpd.controller import Controller

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            data = envelope.original_content or envelope.content
            if isinstance(data, str):
                data = data.encode("utf-8")
            store(directory, {"mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos),
                              "data": data.decode("latin-1")})
            return "250 Message accepted for delivery"

    controller = Controller(Handler(), hostname=host, port=port)
    controller.start()
    try:
        wait_for_signal()
    finally:
        controller.stop()


def run_webhook(directory, host, port):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            store(directory, {"path": self.path, "headers": {k: v for k, v in self.headers.items()},
                              "body": body.decode("latin-1")})
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    http.server.ThreadingHTTPServer.allow_reuse_address = True
    server = http.server.ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        wait_for_signal()
    finally:
        server.shutdown()


if __name__ == "__main__":
    mode, directory, host, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    os.makedirs(directory, exist_ok=True)
    {"smtp": run_smtp, "webhook": run_webhook}[mode](directory, host, port)
