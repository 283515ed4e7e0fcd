#!/usr/bin/env python3
"""A small HTTP proxy in front of moto_server that behaves like a busy EC2.

moto does not throttle, so the tests and the benchmark put this in between:

- a token bucket per action category, like EC2's (mutating calls: 50 tokens,
  5 per second by default); an empty bucket answers 503 with EC2's
  RequestLimitExceeded error XML;
- optional random 500s (InternalError) and stalls (the reply is held back for
  `stall_seconds`, longer than the client's timeout);
- an "outage" switch: every call gets 503 Unavailable;
- counters of what it saw, at GET /__proxy/stats, and runtime settings at
  POST /__proxy/config (JSON with any of the constructor's keyword names).

Requests are forwarded byte for byte with their own Host header, so SigV4
signatures made for the proxy's address still verify at moto. Only loopback
addresses are used.

Use it as a module (FaultProxy(...).start() / .stop()) or run it:
  fault_proxy.py --upstream http://127.0.0.1:5000 [--port 0] [--bucket 50 --refill 5]
which prints "port <n>" on stdout once listening.
"""

import argparse
import http.client
import json
import random
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MUTATING_PREFIXES = ("Authorize", "Revoke", "Modify", "Create", "Delete", "Update")

ERROR_XML = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    "<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error>"
    "</Errors><RequestID>{request_id}</RequestID></Response>"
)


class Bucket:
    def __init__(self, capacity, refill):
        self.capacity = float(capacity)
        self.refill = float(refill)
        self.tokens = float(capacity)
        self.last = time.monotonic()

    def take(self):
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.refill)
        self.last = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class FaultProxy:
    def __init__(self, upstream, port=0, bucket=None, refill=5.0, describe_bucket=None,
                 describe_refill=20.0, error_rate=0.0, stall_rate=0.0, stall_seconds=15.0,
                 outage=False, seed=1):
        u = urllib.parse.urlsplit(upstream)
        self.upstream_host = u.hostname
        self.upstream_port = u.port or 80
        self.port = port
        self.lock = threading.Lock()
        self.rng = random.Random(seed)
        self.stats = {"requests": 0, "forwarded": 0, "throttled": 0, "errors": 0, "stalls": 0,
                      "outage": 0, "actions": {}}
        self.server = None
        self.thread = None
        self.configure(bucket=bucket, refill=refill, describe_bucket=describe_bucket,
                       describe_refill=describe_refill, error_rate=error_rate,
                       stall_rate=stall_rate, stall_seconds=stall_seconds, outage=outage)

    SETTINGS = ("bucket", "refill", "describe_bucket", "describe_refill", "error_rate",
                "stall_rate", "stall_seconds", "outage")

    def configure(self, **settings):
        unknown = set(settings) - set(self.SETTINGS)
        if unknown:
            raise ValueError("unknown fault proxy settings: %s" % ", ".join(sorted(unknown)))
        with self.lock:
            for key, value in settings.items():
                setattr(self, key, value)
            if "bucket" in settings or "refill" in settings:
                self.mutating = Bucket(self.bucket, self.refill) if self.bucket else None
            if "describe_bucket" in settings or "describe_refill" in settings:
                self.describing = (Bucket(self.describe_bucket, self.describe_refill)
                                   if self.describe_bucket else None)

    def snapshot(self):
        with self.lock:
            return json.loads(json.dumps(self.stats))

    def reset_stats(self):
        with self.lock:
            self.stats.update({"requests": 0, "forwarded": 0, "throttled": 0, "errors": 0,
                               "stalls": 0, "outage": 0, "actions": {}})

    # Decides what happens to one call: None (forward) or (status, code, message).
    def decide(self, action):
        with self.lock:
            self.stats["requests"] += 1
            per = self.stats["actions"].setdefault(action or "?", {"calls": 0, "throttled": 0})
            per["calls"] += 1
            if self.outage:
                self.stats["outage"] += 1
                return (503, "Unavailable", "The service is unavailable. Please try again shortly.")
            mutating = bool(action) and action.startswith(MUTATING_PREFIXES)
            bucket = self.mutating if mutating else self.describing
            if bucket is not None and not bucket.take():
                self.stats["throttled"] += 1
                per["throttled"] += 1
                return (503, "RequestLimitExceeded", "Request limit exceeded.")
            if self.error_rate and self.rng.random() < self.error_rate:
                self.stats["errors"] += 1
                return (500, "InternalError", "An internal error has occurred.")
            stall = self.stall_rate and self.rng.random() < self.stall_rate
            if stall:
                self.stats["stalls"] += 1
            self.stats["forwarded"] += 1
            return ("stall", self.stall_seconds) if stall else None

    def start(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _reply(self, status, body, content_type="text/xml;charset=UTF-8"):
                data = body.encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a stall outlasted its timeout)

            def _body(self):
                n = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(n) if n else b""

            def do_GET(self):
                if self.path == "/__proxy/stats":
                    return self._reply(200, json.dumps(proxy.snapshot()), "application/json")
                return self._forward(b"")

            def do_PUT(self):
                return self._forward(self._body())

            def do_POST(self):
                body = self._body()
                if self.path == "/__proxy/config":
                    settings = json.loads(body or b"{}")
                    if settings.pop("reset_stats", False):
                        proxy.reset_stats()
                    try:
                        proxy.configure(**settings)
                    except ValueError as e:
                        return self._reply(400, json.dumps({"error": str(e)}), "application/json")
                    return self._reply(200, json.dumps({"ok": True}), "application/json")
                return self._forward(body)

            def _forward(self, body):
                form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
                action = (form.get("Action") or [""])[0]
                verdict = proxy.decide(action)
                if verdict is not None and verdict[0] != "stall":
                    status, code, message = verdict
                    xml = ERROR_XML.format(code=code, message=message,
                                           request_id="%08x" % proxy.rng.getrandbits(32))
                    return self._reply(status, xml)
                if verdict is not None:
                    time.sleep(verdict[1])
                conn = http.client.HTTPConnection(proxy.upstream_host, proxy.upstream_port,
                                                  timeout=60)
                try:
                    headers = {k: v for k, v in self.headers.items()
                               if k.lower() not in ("connection", "keep-alive")}
                    conn.request(self.command, self.path, body=body, headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                except OSError as e:
                    return self._reply(502, "upstream: %s" % e, "text/plain")
                finally:
                    conn.close()
                try:
                    self.send_response(resp.status)
                    for k, v in resp.getheaders():
                        if k.lower() not in ("transfer-encoding", "connection", "content-length",
                                             "server", "date"):
                            self.send_header(k, v)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a stall outlasted its timeout)

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--bucket", type=float, default=50)
    ap.add_argument("--refill", type=float, default=5)
    ap.add_argument("--error-rate", type=float, default=0.0)
    ap.add_argument("--stall-rate", type=float, default=0.0)
    ap.add_argument("--stall-seconds", type=float, default=15.0)
    a = ap.parse_args()
    p = FaultProxy(a.upstream, a.port, bucket=a.bucket, refill=a.refill, error_rate=a.error_rate,
                   stall_rate=a.stall_rate, stall_seconds=a.stall_seconds).start()
    print("port %d" % p.port, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        p.stop()


if __name__ == "__main__":
    sys.exit(main())
