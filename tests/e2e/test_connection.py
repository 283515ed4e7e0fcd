"""End-to-end: POST/DELETE /connection with the real `curl --aws-sigv4`.

    client1 ── veth ── server (pinholed, echo service on the protected port)
    client2 ── veth ──┘

A user makes an access key and an API token through the API. From client1,
curl signs with SigV4 (service execute-api) and opens, refreshes and closes
the user's default grant; TCP connects to the protected port show whether
the nftables hole is really there. Tampered, replayed, mis-timed and
wrongly-signed requests are refused with 401/403 and change nothing.

Usage: test_connection.py BIN_DIR   (needs root; creates and deletes its own namespaces)
"""

import datetime
import hashlib
import hmac
import json
import os
import subprocess
import sys
import unittest

from testbed import ADMIN_EMAIL, ADMIN_PASSWORD, API_PORT, CLIENTS, SERVICE_PORT, Testbed

BIN_DIR = None
TB = None
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SECURITY_TEST = os.path.join(ROOT, "tests", "browser", "security.test.mjs")
DAN = ("dan@example.com", "dan-password-for-tests-1")

CAROL = ("carol@example.com", "carol-password-for-tests-1")
REGION = "eu-west-1"


def sign(method, url_host, path, body, key_id, secret, when, service="execute-api"):
    """SigV4 headers for a request, as an independent (Python) signer."""
    amz_date = when.strftime("%Y%m%dT%H%M%SZ")
    day = amz_date[:8]
    payload = hashlib.sha256(body.encode()).hexdigest()
    canonical = "\n".join([method, path, "", f"host:{url_host}", f"x-amz-date:{amz_date}", "",
                           "host;x-amz-date", payload])
    scope = f"{day}/{REGION}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    k = ("AWS4" + secret).encode()
    for part in (day, REGION, service, "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    return [f"X-Amz-Date: {amz_date}",
            f"Authorization: AWS4-HMAC-SHA256 Credential={key_id}/{scope}, "
            f"SignedHeaders=host;x-amz-date, Signature={sig}"]


class ConnectionEndToEnd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        global TB
        cls.tb = TB = Testbed(BIN_DIR, table="pinhole_conn")
        tb = cls.tb
        tb.start_echo_service()
        tb.start_pinholed()
        admin = tb.login(ADMIN_EMAIL, ADMIN_PASSWORD)

        def ok(r):
            assert r[0] in (200, 201), r
            return r[1]

        ok(tb.api("POST", "/api/v1/users", {"email": CAROL[0], "password": CAROL[1], "role": "user"},
                  admin))
        ok(tb.api("POST", "/api/v1/services",
                  {"name": "echo", "protocol": "tcp", "ports": str(SERVICE_PORT), "backend": "nftables",
                   "target": {}}, admin))
        ok(tb.api("POST", "/api/v1/services",
                  {"name": "other", "protocol": "tcp", "ports": "2223", "backend": "nftables",
                   "target": {}}, admin))
        ok(tb.api("POST", "/api/v1/policies",
                  {"name": "carol-default", "users": [CAROL[0]], "services": ["echo"],
                   "default_duration": "1h", "max_duration": "2h", "default": True}, admin))
        ok(tb.api("POST", "/api/v1/policies",
                  {"name": "carol-other", "users": [CAROL[0]], "services": ["other"],
                   "default_duration": "1h", "max_duration": "2h"}, admin))
        cls.admin = admin
        cls.carol = tb.login(*CAROL)
        key = ok(tb.api("POST", "/api/v1/me/access-keys", {"name": "laptop script"}, cls.carol))
        cls.key_id, cls.secret = key["access_key_id"], key["secret_access_key"]
        token = ok(tb.api("POST", "/api/v1/me/tokens", {"name": "cron", "expires_in": "1d"}, cls.carol))
        cls.token = token["token"]
        cls.url = tb.server_url("client1") + "/connection"
        cls.host = f"{CLIENTS['client1']['v4'][0]}:{API_PORT}"

    @classmethod
    def tearDownClass(cls):
        cls.tb.close()

    def curl_sigv4(self, method, extra=(), secret=None, service="execute-api"):
        """The real curl, signing the request itself."""
        args = ["curl", "-sS", "-o", "-", "-w", "\n%{http_code}", "--max-time", "20",
                "--aws-sigv4", f"aws:amz:{REGION}:{service}",
                "--user", f"{self.key_id}:{secret or self.secret}", "-X", method, *extra, self.url]
        out = self.tb.exec_in(self.tb.ns["client1"], *args, check=False)
        text, _, code = out.stdout.rpartition("\n")
        return int(code or 0), (json.loads(text) if text.startswith("{") else text)

    def raw(self, method, headers, body=""):
        status, payload, _ = self.tb.api(method, "/connection", headers=headers,
                                         raw_body=body if body else None)
        return status, payload

    def state(self):
        """What a refusal must leave unchanged: leases, the firewall, credentials."""
        leases = self.tb.api("GET", "/api/v1/leases", token=self.admin)[1]["items"]
        return (sorted((l["id"], l["state"], l["expires_at"]) for l in leases),
                self.tb.nft_elements())

    def audit_actions(self):
        events = self.tb.api("GET", "/api/v1/audit?limit=1000", token=self.admin)[1]
        items = events["items"] if isinstance(events, dict) else events
        return [e["action"] for e in items]

    def test_1_curl_sigv4_opens_refreshes_and_closes(self):
        tb = self.tb
        self.assertFalse(tb.can_connect("client1"))
        status, body = self.curl_sigv4("POST")
        self.assertEqual(status, 201, body)
        self.assertEqual(body["state"], "active")
        self.assertEqual(body["services"], ["echo"])
        self.assertEqual(body["source_cidr"], CLIENTS["client1"]["v4"][1] + "/32")
        self.assertTrue(tb.can_connect("client1"))
        self.assertFalse(tb.can_connect("client2"))
        # Again: the same hole is refreshed, not a second one made.
        status, again = self.curl_sigv4("POST")
        self.assertEqual(status, 200, again)
        self.assertEqual(again["id"], body["id"])
        self.assertGreaterEqual(again["expires_at"], body["expires_at"])
        # Close.
        status, closed = self.curl_sigv4("DELETE")
        self.assertEqual(status, 200, closed)
        self.assertEqual([l["state"] for l in closed["ended"]], ["terminated"])
        self.assertFalse(tb.can_connect("client1"))
        status, _ = self.curl_sigv4("DELETE")
        self.assertEqual(status, 404)
        # The key's last use is recorded.
        keys = tb.api("GET", "/api/v1/me/access-keys", token=self.carol)[1]["items"]
        self.assertEqual(keys[0]["last_used_ip"], CLIENTS["client1"]["v4"][1])

    def test_2_bearer_api_token_works_too(self):
        tb = self.tb
        status, body, _ = tb.api("POST", "/connection", token=self.token)
        self.assertEqual(status, 201, body)
        self.assertTrue(tb.can_connect("client1"))
        status, body, _ = tb.api("DELETE", "/connection", token=self.token)
        self.assertEqual(status, 200, body)
        self.assertFalse(tb.can_connect("client1"))

    def test_3_refusals_change_nothing(self):
        tb = self.tb
        before = self.state()
        now = datetime.datetime.now(datetime.timezone.utc)
        good = sign("POST", self.host, "/connection", "", self.key_id, self.secret, now)
        # Tampered: the signature covers an empty body, the request carries one.
        status, body = self.raw("POST", good, body='{"services":["other"]}')
        self.assertEqual((status, body["error"]["code"]), (403, "signature_mismatch"), body)
        # Tampered path: signed for /connection, sent elsewhere is the same as a
        # changed signature byte.
        bad_sig = good[:1] + [good[1][:-1] + ("0" if good[1][-1] != "0" else "1")]
        status, body = self.raw("POST", bad_sig)
        self.assertEqual((status, body["error"]["code"]), (403, "signature_mismatch"), body)
        # Wrong secret (through curl itself).
        status, body = self.curl_sigv4("POST", secret="x" * 40)
        self.assertEqual((status, body["error"]["code"]), (403, "signature_mismatch"), body)
        # Wrong service.
        status, body = self.curl_sigv4("POST", service="s3")
        self.assertEqual((status, body["error"]["code"]), (403, "wrong_service"), body)
        # More than five minutes off, either way.
        for skew in (datetime.timedelta(minutes=6), -datetime.timedelta(minutes=6)):
            late = sign("POST", self.host, "/connection", "", self.key_id, self.secret, now + skew)
            status, body = self.raw("POST", late)
            self.assertEqual((status, body["error"]["code"]), (403, "request_expired"), body)
        # Unknown key.
        unknown = sign("POST", self.host, "/connection", "", "PHKNOSUCHKEY234567A", self.secret, now)
        status, body = self.raw("POST", unknown)
        self.assertEqual((status, body["error"]["code"]), (401, "unknown_access_key"), body)
        # Garbage.
        status, body = self.raw("POST", ["Authorization: AWS4-HMAC-SHA256 Credential=x"])
        self.assertEqual((status, body["error"]["code"]), (401, "invalid_authorization"), body)
        status, body, _ = tb.api("POST", "/connection", token="pht_forged")
        self.assertEqual((status, body["error"]["code"]), (401, "invalid_token"), body)
        self.assertEqual(self.state(), before)
        self.assertFalse(tb.can_connect("client1"))
        actions = self.audit_actions()
        self.assertGreaterEqual(actions.count("auth.sigv4_failed"), 7)
        self.assertGreaterEqual(actions.count("auth.token_failed"), 1)

    def test_4_a_signed_request_works_once(self):
        tb = self.tb
        now = datetime.datetime.now(datetime.timezone.utc)
        headers = sign("POST", self.host, "/connection", "", self.key_id, self.secret, now)
        status, body = self.raw("POST", headers)
        self.assertEqual(status, 201, body)
        before = self.state()
        status, body = self.raw("POST", headers)  # the same bytes again
        self.assertEqual((status, body["error"]["code"]), (403, "request_replayed"), body)
        self.assertEqual(self.state(), before)
        status, _ = self.curl_sigv4("DELETE")
        self.assertEqual(status, 200)

    def test_5_revoked_key_and_token_stop_working(self):
        tb = self.tb
        key = tb.api("POST", "/api/v1/me/access-keys", {"name": "short-lived"}, self.carol)[1]
        token = tb.api("POST", "/api/v1/me/tokens", {"name": "short-lived"}, self.carol)[1]
        # Carol cannot revoke through a token; an admin revokes both.
        status, body, _ = tb.api("POST", "/api/v1/me/tokens", {"name": "more"}, token["token"])
        self.assertEqual((status, body["error"]["code"]), (403, "session_required"))
        for cid in (key["id"], token["id"]):
            self.assertEqual(tb.api("DELETE", f"/api/v1/credentials/{cid}", token=self.admin)[0], 204)
        status, body, _ = tb.api("POST", "/connection", token=token["token"])
        self.assertEqual(status, 401, body)
        old_key, old_secret = self.key_id, self.secret
        try:
            self.key_id, self.secret = key["access_key_id"], key["secret_access_key"]
            status, body = self.curl_sigv4("POST")
            self.assertEqual((status, body["error"]["code"]), (401, "unknown_access_key"), body)
        finally:
            self.key_id, self.secret = old_key, old_secret
        self.assertFalse(tb.can_connect("client1"))

    def test_6_security_page_in_the_browser(self):
        """TOTP enrolment and API tokens through the portal, in chromium."""
        tb = self.tb
        self.assertEqual(tb.api("POST", "/api/v1/users",
                                {"email": DAN[0], "password": DAN[1], "role": "user"}, self.admin)[0], 201)
        env = dict(os.environ, PINHOLE_URL=tb.server_url("client1"), PINHOLE_EMAIL=DAN[0],
                   PINHOLE_PASSWORD=DAN[1], PINHOLE_ADMIN_EMAIL=ADMIN_EMAIL,
                   PINHOLE_ADMIN_PASSWORD=ADMIN_PASSWORD, HOME=tb.tmp)
        proc = subprocess.run(["ip", "netns", "exec", tb.ns["client1"], "node", SECURITY_TEST],
                              env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
        sys.stdout.write(proc.stdout)
        sys.stdout.write(proc.stderr)
        self.assertEqual(proc.returncode, 0, f"browser test failed; pinholed log:\n{tb.log_tail()}")
        # Enrolled in the browser, then reset by the admin in the browser.
        dan = tb.api("GET", "/api/v1/users/" + DAN[0], token=self.admin)[1]
        self.assertFalse(dan["mfa_enabled"])
        actions = self.audit_actions()
        self.assertIn("mfa.enabled", actions)
        self.assertIn("mfa.reset", actions)
        self.assertIn("api_token.revoke", actions)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    BIN_DIR = sys.argv.pop(1)
    try:
        unittest.main(verbosity=2)
    finally:
        if TB is not None:
            TB.close()
