#!/usr/bin/env python3
"""End-to-end: OpenID Connect single sign-on against a real provider
(oidc-provider from npm, tests/oidc/provider.mjs) and a fake one made here
that can mis-issue ID tokens, with a real pinholed.

Everything runs on the loopback of a network namespace made for this run
(so pinholed's nftables table and the providers' ports touch nothing else);
the script re-runs itself inside it. The code flow is driven with urllib and
a cookie jar, like a browser without JavaScript; then one Playwright run
(tests/browser/sso.test.mjs) clicks through the portal's button.

Usage: test_oidc.py BIN_DIR   (needs root, node, tests/oidc's and
tests/browser's npm packages, python3-cryptography)
"""

import base64
import hashlib
import http.cookiejar
import http.server
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

BIN_DIR = None
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PROVIDER_JS = os.path.join(ROOT, "tests", "oidc", "provider.mjs")
BROWSER_TEST = os.path.join(ROOT, "tests", "browser", "sso.test.mjs")
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "admin-password-for-tests"
SERVICE_PORT = 2222


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def int_bytes(n, size=None):
    size = size or (n.bit_length() + 7) // 8
    return n.to_bytes(size, "big")


class FakeKey:
    """A signing key of the fake provider and its public JWK."""

    def __init__(self, kid, kind="rsa"):
        self.kid, self.kind = kid, kind
        if kind == "rsa":
            self.priv = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        else:
            self.priv = ec.generate_private_key(ec.SECP256R1())

    def jwk(self):
        pub = self.priv.public_key().public_numbers()
        if self.kind == "rsa":
            return {"kty": "RSA", "kid": self.kid, "use": "sig", "alg": "RS256",
                    "n": b64url(int_bytes(pub.n)), "e": b64url(int_bytes(pub.e))}
        return {"kty": "EC", "kid": self.kid, "use": "sig", "crv": "P-256",
                "x": b64url(int_bytes(pub.x, 32)), "y": b64url(int_bytes(pub.y, 32))}

    def token(self, claims):
        alg = "RS256" if self.kind == "rsa" else "ES256"
        header = {"alg": alg, "typ": "JWT", "kid": self.kid}
        signing_input = (b64url(json.dumps(header).encode()) + "." +
                         b64url(json.dumps(claims).encode())).encode()
        if self.kind == "rsa":
            sig = self.priv.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        else:
            r, s = decode_dss_signature(self.priv.sign(signing_input, ec.ECDSA(hashes.SHA256())))
            sig = int_bytes(r, 32) + int_bytes(s, 32)
        return signing_input.decode() + "." + b64url(sig)


class FakeProvider:
    """Discovery, JWKS, an authorization endpoint that signs everyone in at
    once, and a token endpoint whose ID token `mode` can spoil."""

    def __init__(self, client_id, client_secret):
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.client_id, self.client_secret = client_id, client_secret
        self.keys = [FakeKey("fake-1")]
        self.signer = self.keys[0]
        self.mode = "good"
        self.codes = {}  # code -> (nonce, challenge)
        self.jwks_fetches = []
        self.token_requests = 0
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def reply(self, status, body, headers=()):
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                url = urllib.parse.urlsplit(self.path)
                q = dict(urllib.parse.parse_qsl(url.query))
                if url.path == "/.well-known/openid-configuration":
                    return self.reply(200, {
                        "issuer": fake.issuer, "authorization_endpoint": fake.issuer + "/auth",
                        "token_endpoint": fake.issuer + "/token", "jwks_uri": fake.issuer + "/jwks",
                        "code_challenge_methods_supported": ["S256"]})
                if url.path == "/jwks":
                    fake.jwks_fetches.append(time.time())
                    return self.reply(200, {"keys": [k.jwk() for k in fake.keys]})
                if url.path == "/auth":
                    target = q["redirect_uri"]
                    if fake.mode == "deny":
                        loc = target + "?" + urllib.parse.urlencode(
                            {"error": "access_denied", "state": q["state"]})
                    else:
                        code = secrets.token_urlsafe(16)
                        fake.codes[code] = (q.get("nonce"), q.get("code_challenge"))
                        loc = target + "?" + urllib.parse.urlencode({"code": code, "state": q["state"]})
                    return self.reply(302, None, [("Location", loc)])
                self.reply(404, {"error": "not_found"})

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                if self.path != "/token":
                    return self.reply(404, {"error": "not_found"})
                fake.token_requests += 1
                if (form.get("client_id"), form.get("client_secret")) != (fake.client_id,
                                                                          fake.client_secret):
                    return self.reply(401, {"error": "invalid_client"})
                nonce, challenge = fake.codes.pop(form.get("code"), (None, None))
                verifier = form.get("code_verifier", "")
                if challenge is None or b64url(hashlib.sha256(verifier.encode()).digest()) != challenge:
                    return self.reply(400, {"error": "invalid_grant"})
                now = int(time.time())
                claims = {"iss": fake.issuer, "sub": "fake-user-1", "aud": fake.client_id,
                          "iat": now, "exp": now + 300, "nonce": nonce,
                          "email": "frank@example.com", "email_verified": True,
                          "groups": ["eng"]}
                signer = fake.signer
                if fake.mode == "wrong_audience":
                    claims["aud"] = "someone-else"
                elif fake.mode == "expired":
                    claims["iat"], claims["exp"] = now - 900, now - 600
                elif fake.mode == "wrong_nonce":
                    claims["nonce"] = "not-the-nonce"
                elif fake.mode == "wrong_issuer":
                    claims["iss"] = "http://127.0.0.1:1"
                elif fake.mode == "bad_signature":
                    signer = FakeKey(fake.signer.kid, fake.signer.kind)  # same kid, other key
                token = signer.token(claims)
                if fake.mode == "alg_none":
                    head = b64url(json.dumps({"alg": "none", "kid": fake.signer.kid}).encode())
                    token = head + "." + token.split(".")[1] + "."
                self.reply(200, {"access_token": "x", "token_type": "Bearer", "id_token": token})

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def rotate(self):
        new = FakeKey("fake-2", "ec")
        self.keys = [new]
        self.signer = new

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kw):
        return None


class Browser:
    """A cookie jar that follows redirects and remembers where it went."""

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.visited = []
        browser = self

        class Recorder(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, req, fp, code, msg, headers, newurl):
                browser.visited.append(newurl)
                return super().redirect_request(req, fp, code, msg, headers, newurl)

        self.follow = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar),
                                                  Recorder())
        self.once = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar),
                                                NoRedirect())

    def open(self, url, form=None, follow=True, headers=None):
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        req = urllib.request.Request(url, data=data, headers=headers or {"Accept": "text/html"})
        try:
            resp = (self.follow if follow else self.once).open(req, timeout=20)
            return resp.status, resp.headers, resp.read().decode(errors="replace"), resp.url
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read().decode(errors="replace"), url

    def cookie(self, name):
        return next((c.value for c in self.jar if c.name == name), None)


class OidcEndToEnd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="pinhole-oidc-")
        cls.procs = []
        cls.files = []
        cls.fake = None
        try:
            cls._start()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def _start(cls):
        cls.port = free_port()
        cls.base = f"http://127.0.0.1:{cls.port}"
        cls.idp_port = free_port()
        cls.idp = f"http://127.0.0.1:{cls.idp_port}"
        log = open(os.path.join(cls.tmp, "provider.log"), "w")
        cls.files.append(log)
        cls.procs.append(subprocess.Popen(
            ["node", PROVIDER_JS, str(cls.idp_port), cls.base + "/api/v1/oidc/test/callback"],
            stdout=log, stderr=subprocess.STDOUT, cwd=os.path.dirname(PROVIDER_JS)))
        cls.fake = FakeProvider("pinhole-fake", "fake-secret-123")
        config = os.path.join(cls.tmp, "pinhole.toml")
        with open(config, "w") as f:
            f.write(f"""
[server]
listen = ["127.0.0.1:{cls.port}"]
public_url = "{cls.base}"
[store]
sqlite = "{cls.tmp}/pinhole.db"
[nftables]
table = "pinhole_oidc"
[controller]
resync_interval = "2s"

[[oidc]]
name = "test"
display_name = "Test IdP"
issuer = "{cls.idp}"
client_id = "pinhole"
client_secret = "pinhole-oidc-test-secret"
group_map = {{ eng = "engineers" }}

[[oidc]]
name = "fake"
display_name = "Fake"
issuer = "{cls.fake.issuer}"
client_id = "pinhole-fake"
client_secret = "fake-secret-123"
token_auth = "post"
group_map = {{ eng = "engineers" }}
""")
        env = dict(os.environ, PINHOLE_BOOTSTRAP_ADMIN_EMAIL=ADMIN_EMAIL,
                   PINHOLE_BOOTSTRAP_ADMIN_PASSWORD=ADMIN_PASSWORD)
        cls.log_path = os.path.join(cls.tmp, "pinholed.log")
        cls.files.append(open(cls.log_path, "w"))
        cls.procs.append(subprocess.Popen(
            [os.path.join(BIN_DIR, "pinholed"), "--config", config], env=env,
            stdout=cls.files[-1], stderr=subprocess.STDOUT))
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                if (cls.api("GET", "/readyz")[0] == 200 and
                        urllib.request.urlopen(cls.idp + "/.well-known/openid-configuration",
                                               timeout=2).status == 200):
                    break
            except Exception:
                pass
            time.sleep(0.1)
        else:
            raise AssertionError("pinholed or the provider did not start:\n" + cls.log_tail())
        status, body = cls.api("POST", "/api/v1/session",
                               {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
        assert status == 200, body
        cls.admin = body["token"]

    @classmethod
    def tearDownClass(cls):
        for p in cls.procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
        if cls.fake:
            cls.fake.close()
        for f in cls.files:
            f.close()
        subprocess.run(["nft", "delete", "table", "inet", "pinhole_oidc"], capture_output=True)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def log_tail(cls):
        try:
            with open(cls.log_path) as f:
                return f.read()[-3000:]
        except (OSError, AttributeError):
            return ""

    @classmethod
    def api(cls, method, path, body=None, token=None, headers=None):
        req = urllib.request.Request(cls.base + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None)
        req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", "Bearer " + token)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            resp = urllib.request.urlopen(req, timeout=20)
            status, text = resp.status, resp.read().decode()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read().decode()
        return status, (json.loads(text) if text else None)

    # helpers -------------------------------------------------------------
    def users(self):
        return {u["email"]: u for u in self.api("GET", "/api/v1/users", token=self.admin)[1]["items"]}

    def audit(self, action):
        _, page = self.api("GET", f"/api/v1/audit?action={action}&limit=1000", token=self.admin)
        return [dict(e, details=e["details"] if isinstance(e["details"], dict) else json.loads(e["details"]))
                for e in page["items"]]

    def failures(self):
        return [e["details"].get("reason") for e in self.audit("session.login_failed")
                if e["details"].get("method") == "oidc"]

    def form_action(self, page):
        m = re.search(r'<form[^>]*action="([^"]+)"', page)
        self.assertIsNotNone(m, page[:2000])
        return urllib.parse.urljoin(self.idp, m.group(1).replace("&amp;", "&"))

    def real_login(self, browser, login, return_to="/leases"):
        """Login at the real provider: its login page, then consent."""
        status, _, page, url = browser.open(
            f"{self.base}/api/v1/oidc/test/login?return_to={urllib.parse.quote(return_to)}")
        self.assertEqual(status, 200, page[:500])
        self.assertTrue(url.startswith(self.idp + "/interaction/"), url)
        status, _, page, url = browser.open(self.form_action(page),
                                            {"prompt": "login", "login": login, "password": "any"})
        if url.startswith(self.idp + "/interaction/"):
            self.assertIn('value="consent"', page)
            status, _, page, url = browser.open(self.form_action(page), {"prompt": "consent"})
        return status, page, url

    def fake_login(self, browser, return_to="/"):
        """The fake provider signs in at once; returns the callback's reply."""
        status, headers, _, _ = browser.open(
            f"{self.base}/api/v1/oidc/fake/login?return_to={urllib.parse.quote(return_to)}",
            follow=False)
        self.assertEqual(status, 302)
        status, headers, _, _ = browser.open(headers["Location"], follow=False)
        self.assertEqual(status, 302)
        callback = headers["Location"]
        status, headers, body, _ = browser.open(callback, follow=False)
        return status, headers, body, callback

    # tests ---------------------------------------------------------------
    def test_1_info_lists_providers(self):
        status, info = self.api("GET", "/api/v1/info")
        self.assertEqual(status, 200)
        self.assertEqual(info["features"]["sso"], [
            {"name": "test", "display_name": "Test IdP", "login_url": "/api/v1/oidc/test/login"},
            {"name": "fake", "display_name": "Fake", "login_url": "/api/v1/oidc/fake/login"}])
        self.assertEqual(info["features"]["local_passwords"], "all")
        status, _ = self.api("GET", "/api/v1/oidc/nope/login")
        self.assertEqual(status, 404)

    def test_2_login_redirect_carries_pkce_state_nonce(self):
        b = Browser()
        status, headers, _, _ = b.open(f"{self.base}/api/v1/oidc/test/login?return_to=//evil.example",
                                       follow=False)
        self.assertEqual(status, 302)
        loc = urllib.parse.urlsplit(headers["Location"])
        q = dict(urllib.parse.parse_qsl(loc.query))
        self.assertEqual(f"{loc.scheme}://{loc.netloc}{loc.path}", self.idp + "/auth")
        self.assertEqual(q["response_type"], "code")
        self.assertEqual(q["client_id"], "pinhole")
        self.assertEqual(q["redirect_uri"], self.base + "/api/v1/oidc/test/callback")
        self.assertEqual(q["scope"], "openid email profile")
        self.assertEqual(q["code_challenge_method"], "S256")
        self.assertGreaterEqual(len(q["code_challenge"]), 43)
        self.assertGreaterEqual(len(q["state"]), 32)
        self.assertGreaterEqual(len(q["nonce"]), 32)
        self.assertEqual(b.cookie("pinhole_oidc_state"), q["state"])

    def test_3_real_provider_signs_in_and_provisions(self):
        b = Browser()
        status, page, url = self.real_login(b, "ann")
        self.assertEqual(status, 200, page[:500])
        self.assertEqual(url, self.base + "/leases")  # the portal page, signed in
        self.assertIsNotNone(b.cookie("pinhole_session"))
        callback = next(u for u in b.visited if "/api/v1/oidc/test/callback" in u)
        token = b.cookie("pinhole_session")
        status, me = self.api("GET", "/api/v1/me", token=token)
        self.assertEqual(status, 200)
        user = me["user"]
        self.assertEqual(user["email"], "ann@example.com")
        self.assertEqual(user["source"], "oidc")
        self.assertEqual(user["role"], "user")
        # "finance" is not in group_map and is dropped.
        self.assertEqual(user["external_groups"], ["engineers"])
        self.assertIn("engineers", user["groups"])
        created = [e for e in self.audit("user.create") if e["object"] == "user/ann@example.com"]
        self.assertEqual(len(created), 1)
        self.assertEqual(created[0]["details"]["source"], "oidc")
        sessions = [e for e in self.audit("session.create") if e["object"] == "user/ann@example.com"]
        self.assertEqual(sessions[-1]["details"]["method"], "oidc")
        self.assertEqual(sessions[-1]["details"]["provider"], "test")

        # The group-mapped policy lets her open a lease.
        ok = lambda r: r[0] in (200, 201) or self.fail(r)
        ok(self.api("POST", "/api/v1/groups", {"name": "engineers", "members": []}, self.admin))
        ok(self.api("POST", "/api/v1/services", {"name": "echo", "protocol": "tcp",
                                                  "ports": str(SERVICE_PORT), "target": {}}, self.admin))
        ok(self.api("POST", "/api/v1/policies", {
            "name": "eng-echo", "groups": ["engineers"], "services": ["echo"],
            "default_duration": "1h", "max_duration": "2h", "recipients": ["self"]}, self.admin))
        status, lease = self.api("POST", "/api/v1/leases", {"services": ["echo"]}, token)
        self.assertEqual(status, 201, lease)
        self.assertEqual(lease["state"], "active")
        self.assertEqual(self.api("DELETE", f"/api/v1/leases/{lease['id']}", token=token)[0], 200)

        # The same callback again is a replay: refused, no new session.
        before = len(self.audit("session.create"))
        status, headers, _, _ = Browser().open(callback, follow=False)
        self.assertEqual(status, 302)
        self.assertIn("sso_error=state_used", headers["Location"])
        self.assertEqual(len(self.audit("session.create")), before)
        self.assertEqual(self.failures()[-1], "state_used")

        # A second sign-in finds the same user by subject.
        status, _, url = self.real_login(Browser(), "ann")
        self.assertEqual(url, self.base + "/leases")
        self.assertEqual(len([u for u in self.users() if u == "ann@example.com"]), 1)

    def test_4_refusals_at_the_real_provider(self):
        n_users = len(self.users())
        # An unknown state, as a page and as JSON.
        b = Browser()
        status, headers, _, _ = b.open(f"{self.base}/api/v1/oidc/test/callback?code=x&state=bogus",
                                       follow=False)
        self.assertEqual(status, 302)
        self.assertTrue(headers["Location"].startswith("/signin?sso_error=state_unknown"))
        status, body = self.api("GET", "/api/v1/oidc/test/callback?code=x&state=bogus",
                                headers={"Accept": "application/json"})
        self.assertEqual((status, body["error"]["code"]), (400, "state_unknown"))
        # A state started in another browser (login CSRF).
        status, headers, _, _ = b.open(f"{self.base}/api/v1/oidc/test/login", follow=False)
        state = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(headers["Location"]).query))["state"]
        status, headers, _, _ = Browser().open(
            f"{self.base}/api/v1/oidc/test/callback?code=x&state={state}", follow=False)
        self.assertIn("sso_error=state_mismatch", headers["Location"])
        # The user cancels at the provider: error=access_denied comes back.
        b = Browser()
        status, _, page, url = b.open(f"{self.base}/api/v1/oidc/test/login")
        uid_url = url.split("?")[0]
        status, _, _, url = b.open(uid_url + "/abort")
        self.assertTrue(url.startswith(self.base + "/signin?sso_error=provider_error"), url)
        self.assertIsNone(b.cookie("pinhole_session"))
        # email_verified false: no account is made for it.
        status, _, url = self.real_login(Browser(), "bob")
        self.assertIn("sso_error=email_not_verified", url)
        self.assertEqual(len(self.users()), n_users)
        reasons = self.failures()
        for reason in ("state_unknown", "state_mismatch", "provider_error", "email_not_verified"):
            self.assertIn(reason, reasons)

    def test_5_mis_issued_tokens_are_refused(self):
        n_users = len(self.users())
        for mode, reason in [("bad_signature", "bad_signature"), ("wrong_audience", "bad_audience"),
                             ("expired", "token_expired"), ("wrong_nonce", "bad_nonce"),
                             ("wrong_issuer", "bad_issuer"), ("alg_none", "alg_not_allowed")]:
            with self.subTest(mode=mode):
                self.fake.mode = mode
                b = Browser()
                status, headers, _, _ = self.fake_login(b)
                self.assertEqual(status, 302)
                self.assertIn(f"sso_error={reason}", headers["Location"])
                self.assertIsNone(b.cookie("pinhole_session"))
                self.assertEqual(self.failures()[-1], reason)
        self.fake.mode = "deny"
        status, headers, _, _ = self.fake_login(Browser())
        self.assertIn("sso_error=provider_error", headers["Location"])
        self.assertEqual(len(self.users()), n_users)
        self.assertNotIn("frank@example.com", self.users())

    def test_6_fake_provider_good_then_rotated_key(self):
        self.fake.mode = "good"
        b = Browser()
        status, headers, _, _ = self.fake_login(b, "/admin")
        self.assertEqual((status, headers["Location"]), (302, "/admin"))
        token = b.cookie("pinhole_session")
        self.assertEqual(self.api("GET", "/api/v1/me", token=token)[1]["user"]["email"],
                         "frank@example.com")
        # The provider rotates to a new EC key. pinholed refetches its keys for
        # the unknown kid (at most every 10 s), without a restart.
        self.fake.rotate()
        wait = self.fake.jwks_fetches[-1] + 10.5 - time.time()
        if wait > 0:
            time.sleep(wait)
        fetches = len(self.fake.jwks_fetches)
        b = Browser()
        status, headers, _, _ = self.fake_login(b)
        self.assertEqual((status, headers["Location"]), (302, "/"), self.failures()[-1:])
        self.assertIsNotNone(b.cookie("pinhole_session"))
        self.assertEqual(len(self.fake.jwks_fetches), fetches + 1)

    def test_7_disabled_user_is_refused(self):
        frank = self.users()["frank@example.com"]
        self.assertEqual(self.api("PATCH", f"/api/v1/users/{frank['id']}", {"disabled": True},
                                  self.admin)[0], 200)
        self.fake.mode = "good"
        b = Browser()
        status, headers, _, _ = self.fake_login(b)
        self.assertIn("sso_error=user_disabled", headers["Location"])
        self.assertIsNone(b.cookie("pinhole_session"))

    def test_8_portal_button_in_a_browser(self):
        env = dict(os.environ, PINHOLE_URL=self.base, PINHOLE_SSO_NAME="Test IdP",
                   PINHOLE_SSO_LOGIN="cat", PINHOLE_SSO_EMAIL="cat@example.com", HOME=self.tmp)
        proc = subprocess.run(["node", BROWSER_TEST], env=env, cwd=ROOT, capture_output=True,
                              text=True, timeout=300)
        sys.stdout.write(proc.stdout)
        sys.stdout.write(proc.stderr)
        self.assertEqual(proc.returncode, 0, self.log_tail())
        self.assertEqual(self.users()["cat@example.com"]["source"], "oidc")


def main():
    global BIN_DIR
    BIN_DIR = os.path.abspath(sys.argv.pop(1))
    if os.environ.get("PINHOLE_OIDC_NS"):
        unittest.main(verbosity=2)
        return
    ns = f"ph-oidc-{os.getpid() % 100000}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
        rc = subprocess.run(["ip", "netns", "exec", ns, sys.executable, os.path.abspath(__file__),
                             BIN_DIR] + sys.argv[1:],
                            env=dict(os.environ, PINHOLE_OIDC_NS=ns)).returncode
    finally:
        subprocess.run(["ip", "netns", "del", ns])
    sys.exit(rc)


if __name__ == "__main__":
    main()
