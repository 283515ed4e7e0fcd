#!/usr/bin/env python3
"""A minimal IMDSv2 for tests: PUT /latest/api/token, then the role name and
the credentials JSON, both only with a valid session token. Prints the port
it listens on (127.0.0.1) as the first line. Usage: imds_fake.py KEY SECRET"""
import json
import secrets
import sys
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KEY, SECRET = sys.argv[1], sys.argv[2]
ROLE = "pinhole-instance"
TOKENS = set()
BASE = "/latest/meta-data/iam/security-credentials/"


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body=b""):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_PUT(self):
        if self.path != "/latest/api/token" or not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            return self.reply(400)
        token = secrets.token_hex(16)
        TOKENS.add(token)
        self.reply(200, token.encode())

    def do_GET(self):
        if self.headers.get("X-aws-ec2-metadata-token") not in TOKENS:
            return self.reply(401)
        if self.path == BASE:
            return self.reply(200, ROLE.encode())
        if self.path == BASE + ROLE:
            exp = (datetime.now(timezone.utc) + timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M:%SZ")
            doc = {"Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": KEY,
                   "SecretAccessKey": SECRET, "Token": "", "Expiration": exp}
            return self.reply(200, json.dumps(doc).encode())
        self.reply(404)


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
