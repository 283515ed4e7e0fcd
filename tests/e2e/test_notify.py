#!/usr/bin/env python3
"""End-to-end: approvals, invitations and notifications (email + webhooks).

    client1 ── veth ── server (pinholed, echo service, SMTP server, webhook receiver)
    client2 ── veth ──┘

A real SMTP server (Debian's aiosmtpd, run by tests/e2e/smtp_server.py with
/usr/bin/python3) and a small HTTP webhook receiver listen on the server
namespace's loopback; pinholed sends to them. The test reads the mails,
follows their links from the client namespaces, and checks with TCP connects
which addresses the holes admit. SMTP outages and a kill -9 of pinholed
between commit and send must not lose mail.

Usage: test_notify.py BIN_DIR   (needs root; creates and deletes its own namespaces)
"""

import email
import email.policy
import glob
import hashlib
import hmac
import json
import os
import re
import signal
import subprocess
import sys
import time
import unittest

from testbed import ADMIN_EMAIL, ADMIN_PASSWORD, API_PORT, CLIENTS, SERVICE_PORT, Testbed

BIN_DIR = None
TB = None  # the testbed, for the last-resort cleanup in __main__

ALICE = ("alice@example.com", "alice-password-1")  # may invite
BOB = ("bob@example.com", "bob-password-1")  # needs an admin's approval
SMTP_PORT = 2525
HOOK_PORT = 8099
HOOK_SECRET = "webhook-secret-for-tests"
DEBIAN_PYTHON = "/usr/bin/python3"  # has python3-aiosmtpd
HELPER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "smtp_server.py")
C1 = CLIENTS["client1"]["v4"][1]
C2 = CLIENTS["client2"]["v4"][1]


def config_text(tb):
    return (
        "[server]\n"
        f'listen = ["0.0.0.0:{API_PORT}", "[::]:{API_PORT}"]\n'
        f'public_url = "http://{CLIENTS["client1"]["v4"][0]}:{API_PORT}"\n'
        "[store]\n"
        f'sqlite = "{tb.db}"\n'
        "[nftables]\n"
        f'table = "{tb.table}"\n'
        "[controller]\n"
        'resync_interval = "2s"\n'
        "[smtp]\n"
        f'url = "smtp://127.0.0.1:{SMTP_PORT}"\n'
        'from = "Pinhole <pinhole@example.com>"\n'
        "starttls = false\n"
        'timeout = "5s"\n'
        "[notify]\n"
        'retry_base = "1s"\n'
        'retry_max = "2s"\n'
        'reminder_before = "0s"\n'
        'webhook_timeout = "5s"\n'
        "[approval]\n"
        'pending_timeout = "1h"\n'
        'link_ttl = "1h"\n'
        "[invitations]\n"
        'expiry = "1d"\n'
        "[[webhooks]]\n"
        'name = "chatops"\n'
        f'url = "http://127.0.0.1:{HOOK_PORT}/hook"\n'
        f'secret = "{HOOK_SECRET}"\n')


class Receiver:
    """One helper process (SMTP or webhook) in the server namespace; restartable."""

    def __init__(self, tb, mode, port):
        self.tb, self.mode, self.port = tb, mode, port
        self.dir = os.path.join(tb.tmp, mode)
        self.proc = None

    def start(self):
        python = DEBIAN_PYTHON if self.mode == "smtp" else sys.executable
        with open(os.path.join(self.tb.tmp, self.mode + ".log"), "a") as log:
            self.proc = subprocess.Popen(
                ["ip", "netns", "exec", self.tb.server, python, HELPER, self.mode, self.dir, "127.0.0.1",
                 str(self.port)], stdout=subprocess.PIPE, stderr=log, text=True)
        self.tb.procs.append(self.proc)
        line = self.proc.stdout.readline()
        self.proc.stdout.close()
        assert line.strip() == "ready", f"{self.mode} receiver did not start: {line!r}"

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        # Nothing may listen any more: a connect must be refused.
        self.tb._wait(lambda: f":{self.port} " not in self.tb.exec_in(self.tb.server, "ss", "-ltn").stdout,
                      f"{self.mode} receiver to stop")

    def records(self):
        out = []
        for path in sorted(glob.glob(os.path.join(self.dir, "*.json"))):
            with open(path) as f:
                out.append(json.load(f))
        return out


class Mail:
    def __init__(self, record):
        self.rcpt_tos = record["rcpt_tos"]
        self.msg = email.message_from_bytes(record["data"].encode("latin-1"), policy=email.policy.default)
        self.to = str(self.msg["To"])
        self.subject = str(self.msg["Subject"])
        self.message_id = str(self.msg["Message-ID"])
        plain = self.msg.get_body(("plain",))
        html = self.msg.get_body(("html",))
        self.text = plain.get_content() if plain else ""
        self.html = html.get_content() if html else ""

    def __repr__(self):
        return f"<Mail to={self.to} subject={self.subject!r}>"


class NotifyEndToEnd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        global TB
        cls.tb = TB = Testbed(BIN_DIR)
        try:
            cls.smtp = Receiver(cls.tb, "smtp", SMTP_PORT)
            cls.hook = Receiver(cls.tb, "webhook", HOOK_PORT)
            cls.smtp.start()
            cls.hook.start()
            cls.tb.start_echo_service()
            cls.config = config_text(cls.tb)
            cls.tb.start_pinholed(config_text=cls.config)
            cls._login_all()
            cls._seed()
        except BaseException:
            cls.tb.close()
            TB = None
            raise

    @classmethod
    def tearDownClass(cls):
        global TB
        cls.tb.close()
        TB = None

    @classmethod
    def _login_all(cls):
        cls.admin = cls.tb.login(ADMIN_EMAIL, ADMIN_PASSWORD)

    @classmethod
    def _seed(cls):
        tb, tok = cls.tb, cls.admin

        def ok(r):
            assert r[0] in (200, 201), r

        for user in (ALICE, BOB):
            ok(tb.api("POST", "/api/v1/users", {"email": user[0], "password": user[1], "role": "user"}, tok))
        ok(tb.api("POST", "/api/v1/services",
                  {"name": "echo", "protocol": "tcp", "ports": str(SERVICE_PORT), "target": {}}, tok))
        ok(tb.api("POST", "/api/v1/policies",
                  {"name": "invite-echo", "users": [ALICE[0]], "services": ["echo"], "default_duration": "1h",
                   "max_duration": "2h", "recipients": ["self", "invite"]}, tok))
        ok(tb.api("POST", "/api/v1/policies",
                  {"name": "gated-echo", "users": [BOB[0]], "services": ["echo"], "default_duration": "1h",
                   "max_duration": "2h", "approval": "admin"}, tok))
        cls.alice = tb.login(*ALICE, client="client1")
        cls.bob = tb.login(*BOB, client="client1")

    # --- helpers ----------------------------------------------------------
    def wait_for(self, cond, what, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            v = cond()
            if v:
                return v
            time.sleep(0.1)
        self.fail(f"timed out waiting for {what}; pinholed log:\n{self.tb.log_tail()}")

    def mails(self, to=None):
        out = [Mail(r) for r in self.smtp.records()]
        return [m for m in out if to is None or to in m.rcpt_tos]

    def wait_mail(self, to, subject_part, count=1, timeout=15):
        def found():
            ms = [m for m in self.mails(to) if subject_part in m.subject]
            return ms if len(ms) >= count else None
        return self.wait_for(found, f"{count} mail(s) to {to} with {subject_part!r}", timeout)

    def check_alternative(self, mail):
        """Both parts of a multipart/alternative mail, returned as (text, html)."""
        self.assertEqual(mail.msg.get_content_type(), "multipart/alternative", mail)
        self.assertTrue(mail.text.strip(), "empty text/plain part")
        self.assertTrue(mail.html.strip(), "empty text/html part")
        self.assertIn("<html", mail.html.lower())
        return mail.text, mail.html

    def link_tokens(self, text, kind):
        base = re.escape(f"http://{CLIENTS['client1']['v4'][0]}:{API_PORT}/{kind}/")
        return re.findall(base + r"([A-Za-z0-9._~%-]+)", text)

    def lease(self, lease_id):
        status, body, _ = self.tb.api("GET", f"/api/v1/leases/{lease_id}", token=self.admin)
        self.assertEqual(status, 200, body)
        return body

    def audit_head(self):
        _, page, _ = self.tb.api("GET", "/api/v1/audit?order=desc&limit=1", token=self.admin)
        return page["items"][0]["seq"] if page["items"] else 0

    def leases_snapshot(self):
        status, page, _ = self.tb.api("GET", "/api/v1/leases?limit=1000", token=self.admin)
        self.assertEqual(status, 200, page)
        return sorted((l["id"], l["state"], l["source_cidr"]) for l in page["items"])

    def outbox(self, query=""):
        status, page, _ = self.tb.api("GET", "/api/v1/outbox?limit=1000" + query, token=self.admin)
        self.assertEqual(status, 200, page)
        return page["items"]

    def snapshot(self):
        """What a rejected request must not change (outbox rows only by id: they get delivered)."""
        return {"leases": self.leases_snapshot(), "audit": self.audit_head(),
                "outbox": sorted(m["id"] for m in self.outbox()), "nft": self.tb.nft_elements()}

    def nft_addresses(self):
        return json.dumps(self.tb.nft_elements())

    def end_live_leases(self):
        for state in ("live", "pending_approval", "invited", "approved"):
            _, page, _ = self.tb.api("GET", f"/api/v1/leases?state={state}&limit=1000", token=self.admin)
            for lease in page["items"]:
                self.tb.api("DELETE", f"/api/v1/leases/{lease['id']}", token=self.admin)
        self.wait_for(lambda: not self.tb.can_connect("client1", timeout=0.3)
                      and not self.tb.can_connect("client2", timeout=0.3), "all holes to close")

    def invite(self, address, token=None, **extra):
        recipient = {"kind": "invite", "email": address, "send_email": True, **extra}
        status, body, _ = self.tb.api("POST", "/api/v1/leases",
                                      {"services": ["echo"], "duration": "1h", "reason": "e2e invitation",
                                       "recipient": recipient}, token or self.alice)
        self.assertEqual(status, 201, body)
        self.assertEqual(body["state"], "invited", body)
        self.assertIsNone(body["source_cidr"], body)
        return body

    def check_hook(self, lease_id, event):
        """The webhook for `event` about lease `lease_id` arrives and names that lease."""
        def hooks():
            bodies = [json.loads(r["body"]) for r in self.hook.records()]
            return [b for b in bodies if b["event"] == event] or None
        mine = [b for b in self.wait_for(hooks, f"a {event} webhook") if b["lease"]["id"] == lease_id]
        self.assertTrue(mine, f"no {event} webhook names lease {lease_id}; they name "
                              f"{[b['lease']['id'] for b in hooks()]}")
        self.assertIn(f"lease #{lease_id})", mine[0]["text"])

    def check_error(self, resp, status, want_status, want_code):
        self.assertEqual(status, want_status, resp)
        self.assertEqual(resp["error"]["code"], want_code, resp)
        self.assertTrue(resp["error"]["message"], resp)

    # --- tests, in order ----------------------------------------------------
    def test_01_invitation_opens_for_the_confirming_address_only(self):
        self.assertFalse(self.tb.can_connect("client1"))
        self.assertFalse(self.tb.can_connect("client2"))
        created = self.invite("carol@example.com")
        self.assertTrue(created["invitation"]["emailed"], created)
        url = created["invitation"]["url"]

        mail = self.wait_mail("carol@example.com", "invited you")[0]
        self.assertEqual(mail.rcpt_tos, ["carol@example.com"])
        self.assertIn(ALICE[0], mail.subject)
        text, html = self.check_alternative(mail)
        tokens = self.link_tokens(text, "invite")
        self.assertEqual(len(tokens), 1, text)
        self.assertEqual(self.link_tokens(html, "invite"), tokens, html)
        token = tokens[0]
        self.assertEqual(url.rsplit("/", 1)[1], token, "the API's url and the emailed link differ")
        self.assertGreaterEqual(len(token), 22, "a token needs >= 128 bits")
        self.assertIn("echo", text)
        type(self).invitation = (created["id"], mail)

        # Opening the link (GET) shows what will be granted and changes nothing.
        before = self.snapshot()
        status, info, _ = self.tb.api("GET", f"/api/v1/invitations/{token}", client="client2")
        self.assertEqual(status, 200, info)
        self.assertEqual(info["email"], "carol@example.com")
        self.assertEqual(info["invited_by"], ALICE[0])
        self.assertEqual(info["services"], ["echo"])
        self.assertEqual(info["duration"], "1h")
        self.assertEqual(info["your_ip"], C2)
        self.assertEqual(self.snapshot()["leases"], before["leases"])
        self.assertFalse(self.tb.can_connect("client2"))

        # Confirming from client2 opens the hole for client2's address and no other.
        status, act, _ = self.tb.api("POST", f"/api/v1/invitations/{token}/activate", {}, client="client2")
        self.assertEqual(status, 200, act)
        self.assertEqual(act["state"], "active")
        self.assertEqual(act["source_cidr"], C2 + "/32")
        self.assertEqual(act["services"], ["echo"])
        self.assertTrue(self.tb.can_connect("client2"))
        self.assertFalse(self.tb.can_connect("client1"), "the inviter's namespace must stay outside")
        self.assertFalse(self.tb.can_connect("client2", "v6"), "only the address that confirmed")
        elems = self.nft_addresses()
        self.assertIn(C2, elems)
        self.assertNotIn(C1, elems)
        lease = self.lease(created["id"])
        self.assertEqual((lease["state"], lease["source_cidr"], lease["owner"]), ("active", C2 + "/32", ALICE[0]))

        # Re-use and forgery: clear errors, nothing changed.
        before = self.snapshot()
        forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        cases = [
            ("re-used link", "POST", f"/api/v1/invitations/{token}/activate", "client1", 410, "invitation_gone"),
            ("re-used link, GET", "GET", f"/api/v1/invitations/{token}", "client1", 410, "invitation_gone"),
            ("forged link", "POST", f"/api/v1/invitations/{forged}/activate", "client1", 404, "invalid_link"),
            ("forged link, GET", "GET", f"/api/v1/invitations/{forged}", "client1", 404, "invalid_link"),
            ("garbage", "POST", "/api/v1/invitations/not-a-token/activate", "client1", 404, "invalid_link"),
        ]
        for name, method, path, client, want_status, want_code in cases:
            with self.subTest(name):
                status, resp, _ = self.tb.api(method, path, {} if method == "POST" else None, client=client)
                self.check_error(resp, status, want_status, want_code)
        self.assertEqual(self.snapshot(), before)
        self.assertTrue(self.tb.can_connect("client2"))
        self.assertFalse(self.tb.can_connect("client1"))
        self.end_live_leases()

    def test_02_approval_by_emailed_one_click_link(self):
        status, req, _ = self.tb.api("POST", "/api/v1/leases", {"services": ["echo"], "reason": "e2e approval"},
                                     self.bob, client="client1")
        self.assertEqual(status, 201, req)
        self.assertEqual(req["state"], "pending_approval", req)
        self.assertEqual(req["source_cidr"], C1 + "/32", req)
        self.assertFalse(self.tb.can_connect("client1"), "a pending request must not open the hole")
        self.assertNotIn(C1, self.nft_addresses())

        mail = self.wait_mail(ADMIN_EMAIL, "Approval needed")[-1]
        self.assertIn(BOB[0], mail.subject)
        text, html = self.check_alternative(mail)
        approve = self.link_tokens(text, "approve")
        self.assertEqual(len(approve), 2, text)  # approve and deny
        self.assertEqual(self.link_tokens(html, "approve"), approve, html)
        yes = next(t for t in approve if t.startswith("a."))
        no = next(t for t in approve if t.startswith("d."))
        type(self).request = (req["id"], mail)

        # Not an admin: 403, nothing changed (and no self-approval).
        before = self.snapshot()
        for who, tok in (("bob (own request)", self.bob), ("alice", self.alice)):
            for action in ("approve", "deny"):
                with self.subTest(f"{action} by {who}"):
                    status, resp, _ = self.tb.api("POST", f"/api/v1/leases/{req['id']}/{action}", {}, tok)
                    self.assertEqual(status, 403, resp)
        self.assertEqual(self.snapshot(), before)
        self.assertEqual(self.lease(req["id"])["state"], "pending_approval")

        # The link's GET is a confirmation page: it tells what and changes nothing.
        status, info, _ = self.tb.api("GET", f"/api/v1/approval-links/{yes}", client="client2")
        self.assertEqual(status, 200, info)
        self.assertEqual(info["action"], "approve")
        self.assertEqual(info["admin"], ADMIN_EMAIL)
        self.assertEqual(info["lease"]["id"], req["id"])
        self.assertEqual(info["lease"]["owner"], BOB[0])
        self.assertEqual(info["lease"]["state"], "pending_approval")
        self.assertEqual(info["lease"]["source_cidr"], C1 + "/32")
        self.assertEqual(self.lease(req["id"])["state"], "pending_approval")
        self.assertFalse(self.tb.can_connect("client1"))

        # POST from another namespace approves; the hole opens for the requester's recorded address.
        status, lease, _ = self.tb.api("POST", f"/api/v1/approval-links/{yes}", {"reason": "ok by mail"},
                                       client="client2")
        self.assertEqual(status, 200, lease)
        self.assertEqual(lease["state"], "active", lease)
        self.assertEqual(lease["source_cidr"], C1 + "/32")
        self.assertEqual(lease.get("approved_by"), ADMIN_EMAIL)
        self.assertTrue(self.tb.can_connect("client1"))
        self.assertFalse(self.tb.can_connect("client2"), "the approving browser's address must not get in")
        self.assertNotIn(C2, self.nft_addresses())

        told = self.wait_mail(BOB[0], "Approved")[-1]
        self.check_alternative(told)
        self.assertIn("echo", told.subject)

        # Both links are now spent.
        before = self.snapshot()
        status, resp, _ = self.tb.api("POST", f"/api/v1/approval-links/{yes}", {}, client="client2")
        self.check_error(resp, status, 410, "link_used")
        status, resp, _ = self.tb.api("POST", f"/api/v1/approval-links/{no}", {}, client="client2")
        self.assertEqual(status, 410, resp)
        self.assertIn(resp["error"]["code"], ("already_decided", "link_used"), resp)
        forged = yes[:-4] + ("AAAA" if not yes.endswith("AAAA") else "BBBB")
        for path in (f"/api/v1/approval-links/{forged}", "/api/v1/approval-links/a.bogus"):
            for method in ("GET", "POST"):
                with self.subTest(f"{method} {path}"):
                    status, resp, _ = self.tb.api(method, path, {} if method == "POST" else None, client="client2")
                    self.check_error(resp, status, 404, "invalid_link")
        # Approving again through the API: not pending.
        status, resp, _ = self.tb.api("POST", f"/api/v1/leases/{req['id']}/approve", {}, self.admin)
        self.check_error(resp, status, 409, "not_pending")
        self.assertEqual(self.snapshot(), before)
        self.assertTrue(self.tb.can_connect("client1"))
        self.end_live_leases()

    def test_03_deny_by_emailed_link(self):
        admin_mails = len(self.wait_mail(ADMIN_EMAIL, "Approval needed"))
        status, req, _ = self.tb.api("POST", "/api/v1/leases", {"services": ["echo"], "reason": "e2e deny"},
                                     self.bob, client="client2")
        self.assertEqual(status, 201, req)
        self.assertEqual(req["state"], "pending_approval")
        mail = self.wait_mail(ADMIN_EMAIL, "Approval needed", count=admin_mails + 1)[-1]
        tokens = self.link_tokens(mail.text, "approve")
        no = next(t for t in tokens if t.startswith("d."))
        yes = next(t for t in tokens if t.startswith("a."))
        status, info, _ = self.tb.api("GET", f"/api/v1/approval-links/{no}", client="client1")
        self.assertEqual(status, 200, info)
        self.assertEqual(info["action"], "deny")
        self.assertEqual(info["lease"]["id"], req["id"])
        status, lease, _ = self.tb.api("POST", f"/api/v1/approval-links/{no}", {"reason": "not today"},
                                       client="client1")
        self.assertEqual(status, 200, lease)
        self.assertEqual(lease["state"], "denied", lease)
        self.assertFalse(self.tb.can_connect("client2"))
        self.assertNotIn(C2, self.nft_addresses())
        told = self.wait_mail(BOB[0], "Denied")[-1]
        text, _ = self.check_alternative(told)
        self.assertIn("not today", text)
        # The approve link of a denied request is dead.
        status, resp, _ = self.tb.api("POST", f"/api/v1/approval-links/{yes}", {}, client="client1")
        self.assertEqual(status, 410, resp)
        self.assertFalse(self.tb.can_connect("client2"))

    def test_04_bad_input_is_rejected_and_changes_nothing(self):
        before = self.snapshot()
        cases = [
            ("invite without email", self.alice, {"services": ["echo"], "recipient": {"kind": "invite"}},
             422, "invalid_recipient"),
            ("invite with empty email", self.alice,
             {"services": ["echo"], "recipient": {"kind": "invite", "email": ""}}, 422, "invalid_recipient"),
            ("invite with a non-address", self.alice,
             {"services": ["echo"], "recipient": {"kind": "invite", "email": "not an address"}},
             422, "invalid_recipient"),
            ("invite under a policy without invite", self.bob,
             {"services": ["echo"], "recipient": {"kind": "invite", "email": "x@example.com"}},
             403, "not_permitted"),
        ]
        for name, tok, body, want_status, want_code in cases:
            with self.subTest(name):
                status, resp, _ = self.tb.api("POST", "/api/v1/leases", body, tok)
                self.check_error(resp, status, want_status, want_code)
        # Approve/deny by a non-admin on a lease that exists.
        status, req, _ = self.tb.api("POST", "/api/v1/leases", {"services": ["echo"]}, self.bob)
        self.assertEqual(status, 201, req)
        mid = self.snapshot()
        for action in ("approve", "deny"):
            status, resp, _ = self.tb.api("POST", f"/api/v1/leases/{req['id']}/{action}", {}, self.alice)
            self.assertEqual(status, 403, resp)
        status, resp, _ = self.tb.api("GET", "/api/v1/outbox", token=self.alice)
        self.assertEqual(status, 403, resp)
        self.assertEqual(self.snapshot(), mid)
        # Withdrawing the request: cancelled, hole never opened.
        status, resp, _ = self.tb.api("DELETE", f"/api/v1/leases/{req['id']}", token=self.bob)
        self.assertEqual(status, 200, resp)
        self.assertEqual(resp["state"], "cancelled", resp)
        self.assertEqual(before["nft"], self.tb.nft_elements())

    def test_05_smtp_outage_loses_nothing(self):
        self.smtp.stop()
        try:
            first = self.invite("dave@example.com")
            second = self.invite("erin@example.com")
            targets = {"dave@example.com", "erin@example.com"}

            def failing():
                items = [m for m in self.outbox("&state=pending") if m["channel"] == "email"
                         and m["target"] in targets and m["event"] == "lease.invited"]
                ok = len(items) == 2 and all(m["attempts"] >= 2 and m["last_error"] for m in items)
                return items if ok else None
            items = self.wait_for(failing, "two failed delivery attempts per invitation", timeout=20)
            for m in items:
                self.assertEqual(m["state"], "pending")
                self.assertIsNone(m["sent_at"])
            self.assertFalse(self.mails("dave@example.com") + self.mails("erin@example.com"))
            status, metrics, _ = self.tb.api("GET", "/metrics")
            self.assertIn("pinhole_notification_retries_total", metrics)
            self.assertRegex(metrics, r"pinhole_notifications_pending [1-9]")
        finally:
            self.smtp.start()
        ids = {m["id"] for m in items}
        self.wait_for(lambda: all(m["state"] == "sent" for m in self.outbox() if m["id"] in ids),
                      "the outbox to be delivered", timeout=20)
        time.sleep(2.5)  # a duplicate, if any, would come now
        for lease, addr in ((first, "dave@example.com"), (second, "erin@example.com")):
            got = self.mails(addr)
            self.assertGreaterEqual(len(got), 1, addr)
            # At-least-once: a repeat is the same message (same Message-ID), never a different one.
            self.assertEqual(len({m.message_id for m in got}), 1, got)
            token = lease["invitation"]["url"].rsplit("/", 1)[1]
            self.assertEqual(self.link_tokens(got[0].text, "invite"), [token])
        for m in self.outbox():
            if m["id"] in ids:
                self.assertEqual(m["state"], "sent")
                self.assertTrue(m["sent_at"])
        self.end_live_leases()
        # A cancelled invitation's link is gone.
        token = first["invitation"]["url"].rsplit("/", 1)[1]
        status, resp, _ = self.tb.api("POST", f"/api/v1/invitations/{token}/activate", {}, client="client2")
        self.check_error(resp, status, 410, "invitation_gone")
        self.assertIn("cancel", resp["error"]["message"])
        self.assertFalse(self.tb.can_connect("client2"))

    def test_06_kill_9_between_commit_and_send(self):
        self.smtp.stop()
        try:
            created = self.invite("frank@example.com")
            # The outbox row is committed with the lease; SMTP is down so it cannot have gone out.
            self.tb.kill_pinholed(signal.SIGKILL)
        finally:
            self.smtp.start()
        self.assertFalse(self.mails("frank@example.com"))
        self.tb.start_pinholed(config_text=self.config)
        type(self)._login_all()
        type(self).alice = self.tb.login(*ALICE, client="client1")
        type(self).bob = self.tb.login(*BOB, client="client1")
        mail = self.wait_mail("frank@example.com", "invited you", timeout=20)[0]
        token = created["invitation"]["url"].rsplit("/", 1)[1]
        self.assertEqual(self.link_tokens(mail.text, "invite"), [token])
        time.sleep(2)
        self.assertEqual(len({m.message_id for m in self.mails("frank@example.com")}), 1)
        # The link still works after the restart.
        status, act, _ = self.tb.api("POST", f"/api/v1/invitations/{token}/activate", {}, client="client2")
        self.assertEqual(status, 200, act)
        self.assertTrue(self.tb.can_connect("client2"))
        self.assertFalse(self.tb.can_connect("client1"))
        self.end_live_leases()

    def test_07_webhooks_are_signed_and_slack_compatible(self):
        def events():
            return {json.loads(r["body"])["event"] for r in self.hook.records()}
        want = {"lease.invited", "lease.approval_requested", "lease.approved", "lease.denied"}
        self.wait_for(lambda: want <= events(), f"webhook events {want}")
        records = self.hook.records()
        deliveries = {}
        now = time.time()
        invite_tokens = [t for m in self.mails() for t in self.link_tokens(m.text, "invite")]
        approval_tokens = [t for m in self.mails() for t in self.link_tokens(m.text, "approve")]
        for r in records:
            h = {k.lower(): v for k, v in r["headers"].items()}
            body = r["body"].encode("latin-1")
            with self.subTest(h.get("x-pinhole-event"), delivery=h.get("x-pinhole-delivery")):
                self.assertEqual(r["path"], "/hook")
                self.assertTrue(h["content-type"].startswith("application/json"), h)
                ts = h["x-pinhole-timestamp"]
                self.assertLess(abs(int(ts) - now), 600)
                want_sig = "sha256=" + hmac.new(HOOK_SECRET.encode(), ts.encode() + b"." + body,
                                                hashlib.sha256).hexdigest()
                self.assertTrue(hmac.compare_digest(h["x-pinhole-signature"], want_sig), (h, want_sig))
                payload = json.loads(body)
                self.assertEqual(payload["event"], h["x-pinhole-event"])
                self.assertIsInstance(payload["text"], str)
                self.assertTrue(payload["text"])
                # A repeat (at-least-once) carries the same delivery id and the same body.
                self.assertEqual(deliveries.setdefault(h["x-pinhole-delivery"], r["body"]), r["body"])
                # The links are credentials: they go to their addressees only, never to a webhook.
                for t in invite_tokens + approval_tokens:
                    self.assertNotIn(t, r["body"])
        approved = next(json.loads(r["body"]) for r in records if json.loads(r["body"])["event"] == "lease.approved")
        self.assertIn(BOB[0], approved["text"])
        self.assertEqual(approved["lease"]["owner"], BOB[0])
        hooks = [m for m in self.outbox() if m["channel"] == "webhook"]
        self.assertTrue(hooks)
        self.wait_for(lambda: all(m["state"] == "sent" for m in self.outbox() if m["channel"] == "webhook"),
                      "all webhooks sent")

    def test_08_notifications_name_the_right_lease(self):
        invite_id, _ = self.invitation
        request_id, admin_mail = self.request
        with self.subTest("approval email"):
            self.assertRegex(admin_mail.text, rf"Lease:\s+#{request_id}\b")
        with self.subTest("lease.invited webhook"):
            self.check_hook(invite_id, "lease.invited")
        with self.subTest("lease.approval_requested webhook"):
            self.check_hook(request_id, "lease.approval_requested")

    def test_09_welcome_email_with_a_set_password_link(self):
        status, user, _ = self.tb.api("POST", "/api/v1/users",
                                      {"email": "gina@example.com", "role": "user", "send_welcome": True,
                                       "include_password": False}, self.admin)
        self.assertIn(status, (200, 201), user)
        mail = self.wait_mail("gina@example.com", "Pinhole")[-1]
        text, html = self.check_alternative(mail)
        tokens = self.link_tokens(text, "set-password")
        self.assertEqual(len(tokens), 1, text)
        self.assertEqual(self.link_tokens(html, "set-password"), tokens)
        token = tokens[0]
        status, info, _ = self.tb.api("GET", f"/api/v1/password-links/{token}", client="client2")
        self.assertEqual(status, 200, info)
        self.assertEqual(info["email"], "gina@example.com")
        status, resp, _ = self.tb.api("POST", f"/api/v1/password-links/{token}", {"new": "gina-password-1"},
                                      client="client2")
        self.assertEqual(status, 204, resp)
        self.tb.login("gina@example.com", "gina-password-1", client="client2")
        status, resp, _ = self.tb.api("POST", f"/api/v1/password-links/{token}", {"new": "gina-password-2"},
                                      client="client2")
        self.check_error(resp, status, 410, "link_used")
        forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        status, resp, _ = self.tb.api("POST", f"/api/v1/password-links/{forged}", {"new": "gina-password-3"},
                                      client="client2")
        self.assertEqual(status, 404, resp)
        self.tb.login("gina@example.com", "gina-password-1", client="client2")

    def test_10_metrics(self):
        status, text, _ = self.tb.api("GET", "/metrics")
        self.assertEqual(status, 200)
        for name in ("pinhole_notifications_sent_total", "pinhole_notifications_failed_total",
                     "pinhole_notification_retries_total", "pinhole_notifications_pending"):
            self.assertIn(name, text)
        status, info, _ = self.tb.api("GET", "/api/v1/info", token=self.admin)
        self.assertEqual(status, 200, info)
        for f in ("approval", "invitations", "email"):
            self.assertIs(info["features"][f], True, info)


if __name__ == "__main__":
    BIN_DIR = sys.argv.pop(1)
    def on_sigterm(*_):
        # A SIGTERM (e.g. from ctest --timeout) unwinds like Ctrl-C so the namespaces go away.
        raise KeyboardInterrupt("SIGTERM")

    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        unittest.main(verbosity=2)
    finally:
        if TB is not None:
            TB.close()
