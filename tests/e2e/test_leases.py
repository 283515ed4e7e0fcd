#!/usr/bin/env python3
"""End-to-end: real pinholed, real nftables, real TCP, in namespaces made here.

Usage: test_leases.py BIN_DIR   (needs root; creates and deletes its own namespaces)
"""

import json
import socket
import sys
import time
import unittest

from testbed import ADMIN_EMAIL, ADMIN_PASSWORD, CLIENTS, SERVICE_PORT, Testbed

BIN_DIR = None
ALICE = ("alice@example.com", "alice-password-1")


class LeaseEndToEnd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tb = Testbed(BIN_DIR)
        try:
            cls.tb.start_echo_service()
            cls.tb.start_pinholed()
            cls.admin = cls.tb.login(ADMIN_EMAIL, ADMIN_PASSWORD)
            cls._seed()
        except BaseException:
            cls.tb.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.tb.close()

    @classmethod
    def _seed(cls):
        tb, tok = cls.tb, cls.admin
        ok = lambda r: r[0] in (200, 201) or (_ for _ in ()).throw(AssertionError(r))
        ok(tb.api("POST", "/api/v1/users", {"email": ALICE[0], "password": ALICE[1], "role": "user"}, tok))
        ok(tb.api("POST", "/api/v1/groups", {"name": "ops", "members": [ALICE[0]]}, tok))
        ok(tb.api("POST", "/api/v1/services",
                  {"name": "echo", "protocol": "tcp", "ports": str(SERVICE_PORT), "target": {}}, tok))
        ok(tb.api("POST", "/api/v1/policies",
                  {"name": "ops-echo", "groups": ["ops"], "services": ["echo"],
                   "default_duration": "1h", "max_duration": "10h", "recipients": ["self", "cidr"],
                   "min_prefix": {"ipv4": 28, "ipv6": 64}}, tok))

    # helpers
    def cli_login(self, client, family="v4"):
        url = self.tb.server_url(client, family)
        r = self.tb.cli(client, "login", url, "--email", ALICE[0], "--password-stdin",
                        input=ALICE[1] + "\n", home=f"{self.tb.tmp}/home-{client}-{family}")
        self.assertEqual(r.returncode, 0, r.stderr)

    def cli(self, client, *args, family="v4", check=True):
        return self.tb.cli(client, *args, home=f"{self.tb.tmp}/home-{client}-{family}", check=check)

    def open_json(self, client, *args, family="v4"):
        r = self.cli(client, "open", *args, "--json", family=family)
        return json.loads(r.stdout)

    def wait_until(self, cond, timeout, what):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if cond():
                return time.time()
            time.sleep(0.02)
        self.fail(f"timed out: {what}")

    # --- tests, in order ---------------------------------------------
    def test_01_closed_without_lease(self):
        self.assertFalse(self.tb.can_connect("client1"))
        self.assertFalse(self.tb.can_connect("client2"))
        self.assertFalse(self.tb.can_connect("client1", "v6"))

    def test_02_open_list_close_ipv4(self):
        self.cli_login("client1")
        who = self.cli("client1", "whoami").stdout
        self.assertIn(CLIENTS["client1"]["v4"][1], who)
        lease = self.open_json("client1", "echo", "--for", "2h", "--reason", "e2e")
        self.assertEqual(lease["state"], "active")
        self.assertEqual(lease["source_cidr"], CLIENTS["client1"]["v4"][1] + "/32")
        self.assertEqual([r["status"] for r in lease["rules"]], ["applied"])
        self.assertTrue(self.tb.can_connect("client1"))
        self.assertFalse(self.tb.can_connect("client2"), "another client must stay outside")
        self.assertFalse(self.tb.can_connect("client1", "v6"), "only the address that asked")
        ls = self.cli("client1", "ls").stdout
        self.assertIn(str(lease["id"]), ls)
        self.cli("client1", "close", str(lease["id"]))
        self.assertFalse(self.tb.can_connect("client1"))

    def test_03_open_ipv6(self):
        self.cli_login("client1", "v6")
        lease = self.open_json("client1", "echo", "--for", "1h", family="v6")
        self.assertEqual(lease["source_cidr"], CLIENTS["client1"]["v6"][1] + "/128")
        self.assertTrue(self.tb.can_connect("client1", "v6"))
        self.assertFalse(self.tb.can_connect("client1", "v4"))
        self.assertFalse(self.tb.can_connect("client2", "v6"))
        self.cli("client1", "close", str(lease["id"]), family="v6")
        self.assertFalse(self.tb.can_connect("client1", "v6"))

    def test_04_overlapping_leases_and_shared_holes(self):
        self.cli_login("client1")
        host = self.open_json("client1", "echo", "--for", "1h")
        net = self.open_json("client1", "echo", "--for", "1h", "--cidr", "198.51.100.0/28")
        twin = self.open_json("client1", "echo", "--for", "30m")  # shares the /32 hole
        self.assertEqual(net["source_cidr"], "198.51.100.0/28")
        self.assertTrue(self.tb.can_connect("client1"))
        self.cli("client1", "close", str(net["id"]))
        self.assertTrue(self.tb.can_connect("client1"), "ending the /28 keeps the /32")
        self.cli("client1", "close", str(host["id"]))
        self.assertTrue(self.tb.can_connect("client1"), "the shared hole lives until the last lease")
        self.cli("client1", "close", str(twin["id"]))
        self.assertFalse(self.tb.can_connect("client1"))
        # And the other way round: the /28 alone admits the /32's address.
        net = self.open_json("client1", "echo", "--for", "1h", "--cidr", "198.51.100.0/28")
        host = self.open_json("client1", "echo", "--for", "1h")
        self.cli("client1", "close", str(host["id"]))
        self.assertTrue(self.tb.can_connect("client1"), "ending the /32 keeps the /28")
        self.cli("client1", "close", str(net["id"]))
        self.assertFalse(self.tb.can_connect("client1"))

    def test_05_short_lease_ends_on_time(self):
        self.cli_login("client1")
        lease = self.open_json("client1", "echo", "--for", "3s")
        self.assertTrue(self.tb.can_connect("client1"))
        self.wait_until(lambda: not self.tb.can_connect("client1", timeout=0.3), 6, "expiry")
        status, body, _ = self.tb.api("GET", f"/api/v1/leases/{lease['id']}", token=self.admin)
        self.wait_until(lambda: self.tb.api("GET", f"/api/v1/leases/{lease['id']}",
                                            token=self.admin)[1]["state"] == "expired", 3, "state expired")

    def test_06_established_connection_cut_at_expiry(self):
        self.cli_login("client1")
        self.open_json("client1", "echo", "--for", "3s")
        addr = CLIENTS["client1"]["v4"][0]
        # Keep one connection open across the expiry and check that data stops.
        script = (
            "import socket,time,sys\n"
            f"s=socket.create_connection(('{addr}',{SERVICE_PORT}),timeout=1)\n"
            "s.sendall(b'a');assert s.recv(1)==b'a'\n"
            "time.sleep(4)\n"
            "s.settimeout(1.5)\n"
            "try:\n s.sendall(b'b');d=s.recv(1)\nexcept Exception:\n d=b''\n"
            "sys.exit(0 if d==b'' else 1)\n")
        r = self.tb.exec_in(self.tb.ns["client1"], "python3", "-c", script, check=False)
        self.assertEqual(r.returncode, 0, "established connection still passed data after expiry")

    def test_07_kernel_closes_hole_when_pinholed_is_dead(self):
        self.cli_login("client1")
        self.open_json("client1", "echo", "--for", "4s")
        self.tb.kill_pinholed()  # SIGKILL: no clean-up of any kind
        self.assertTrue(self.tb.can_connect("client1"), "the hole stays while the lease is valid")
        self.wait_until(lambda: not self.tb.can_connect("client1", timeout=0.3), 7, "kernel timeout")
        self.tb.start_pinholed()

    def test_08_restart_rebuilds_table_from_store(self):
        self.cli_login("client1")
        lease = self.open_json("client1", "echo", "--for", "1h")
        self.assertTrue(self.tb.can_connect("client1"))
        self.tb.kill_pinholed()
        # Lose the whole table, as a reboot would.
        self.tb.exec_in(self.tb.server, "nft", "delete", "table", "inet", self.tb.table)
        self.tb.start_pinholed()
        self.assertTrue(self.tb.can_connect("client1"), "the lease survives a restart")
        self.assertFalse(self.tb.can_connect("client2"))
        self.cli("client1", "close", str(lease["id"]))
        self.assertFalse(self.tb.can_connect("client1"))

    def test_09_drift_is_repaired_and_audited(self):
        self.cli_login("client1")
        lease = self.open_json("client1", "echo", "--for", "1h")
        for name in self.tb.nft_elements():
            self.tb.exec_in(self.tb.server, "nft", "flush", "set", "inet", self.tb.table, name)
        self.assertFalse(self.tb.can_connect("client1"))
        self.wait_until(lambda: self.tb.can_connect("client1", timeout=0.3), 8, "drift repair")
        _, audit, _ = self.tb.api("GET", "/api/v1/audit?limit=1000", token=self.admin)
        self.assertIn("enforcement.drift_repaired", [e["action"] for e in audit["items"]])
        self.cli("client1", "close", str(lease["id"]))

    def test_10_renew(self):
        self.cli_login("client1")
        lease = self.open_json("client1", "echo", "--for", "3s")
        renewed = json.loads(self.cli("client1", "renew", str(lease["id"]), "--for", "1h", "--json").stdout)
        self.assertGreater(renewed["expires_at"], lease["expires_at"])
        time.sleep(3.5)
        self.assertTrue(self.tb.can_connect("client1"), "renewed lease outlives its first expiry")
        self.cli("client1", "close", str(lease["id"]))

    def test_11_spoofed_forwarded_for_is_ignored(self):
        tok = self.tb.login(ALICE[0], ALICE[1], client="client2")
        spoof = ["X-Forwarded-For: " + CLIENTS["client1"]["v4"][1],
                 "Forwarded: for=" + CLIENTS["client1"]["v4"][1]]
        status, me, _ = self.tb.api("GET", "/api/v1/me", token=tok, client="client2", headers=spoof)
        self.assertEqual(me["client_ip"], CLIENTS["client2"]["v4"][1])
        status, lease, _ = self.tb.api("POST", "/api/v1/leases", {"services": ["echo"]}, tok,
                                       client="client2", headers=spoof)
        self.assertEqual(status, 201, lease)
        self.assertEqual(lease["source_cidr"], CLIENTS["client2"]["v4"][1] + "/32")
        self.assertFalse(self.tb.can_connect("client1"))
        self.assertTrue(self.tb.can_connect("client2"))
        self.tb.api("DELETE", f"/api/v1/leases/{lease['id']}", token=tok, client="client2")

    def test_12_bad_input_changes_nothing(self):
        tok = self.tb.login(ALICE[0], ALICE[1])
        cases = [
            ("malformed json", "POST", "/api/v1/leases", None, "{not json", tok, 400, "malformed_json"),
            ("body over 64 KiB", "POST", "/api/v1/leases", None,
             json.dumps({"services": ["echo"], "reason": "x" * 70000}), tok, 413, "body_too_large"),
            ("invalid cidr", "POST", "/api/v1/leases",
             {"services": ["echo"], "recipient": {"kind": "cidr", "cidr": "198.51.100.300/28"}}, None, tok,
             422, "invalid_cidr"),
            ("too wide cidr", "POST", "/api/v1/leases",
             {"services": ["echo"], "recipient": {"kind": "cidr", "cidr": "198.51.100.0/24"}}, None, tok,
             422, "cidr_too_wide"),
            ("whole internet", "POST", "/api/v1/leases",
             {"services": ["echo"], "recipient": {"kind": "cidr", "cidr": "0.0.0.0/0"}}, None, tok,
             422, "cidr_too_wide"),
            ("zero duration", "POST", "/api/v1/leases", {"services": ["echo"], "duration": "0s"}, None, tok,
             422, "invalid_duration"),
            ("over max duration", "POST", "/api/v1/leases", {"services": ["echo"], "duration": "11h"}, None,
             tok, 422, "duration_exceeds_max"),
            ("unknown service", "POST", "/api/v1/leases", {"services": ["nope"]}, None, tok, 422,
             "unknown_service"),
            ("non-admin on admin route", "POST", "/api/v1/services",
             {"name": "x", "protocol": "tcp", "ports": "1"}, None, tok, 403, "forbidden"),
            ("no token", "POST", "/api/v1/leases", {"services": ["echo"]}, None, None, 401, "unauthenticated"),
            ("bad token", "POST", "/api/v1/leases", {"services": ["echo"]}, None, "bogus", 401,
             "unauthenticated"),
            ("unknown time zone", "POST", "/api/v1/policies",
             {"name": "p2", "services": ["echo"],
              "schedule": {"timezone": "Mars/Olympus", "windows": [{"days": ["mon"], "from": "08:00", "to": "18:00"}]}},
             None, self.admin, 422, "invalid_schedule"),
            ("overlapping windows", "POST", "/api/v1/policies",
             {"name": "p3", "services": ["echo"],
              "schedule": {"timezone": "Europe/Berlin",
                           "windows": [{"days": ["mon"], "from": "08:00", "to": "18:00"},
                                       {"days": ["mon"], "from": "17:00", "to": "19:00"}]}},
             None, self.admin, 422, "invalid_schedule"),
            ("empty window", "POST", "/api/v1/policies",
             {"name": "p4", "services": ["echo"],
              "schedule": {"timezone": "UTC", "windows": [{"days": [], "from": "08:00", "to": "18:00"}]}},
             None, self.admin, 422, "invalid_schedule"),
            ("unknown approval mode", "POST", "/api/v1/policies",
             {"name": "p5", "services": ["echo"], "approval": "maybe"}, None, self.admin, 422, "invalid_field"),
        ]
        before_elems = self.tb.nft_elements()
        before_seq = self._audit_head()
        before_leases = self._lease_count()
        for name, method, path, body, raw, token, want_status, want_code in cases:
            with self.subTest(name):
                status, resp, _ = self.tb.api(method, path, body, token, raw_body=raw)
                self.assertEqual(status, want_status, resp)
                self.assertEqual(resp["error"]["code"], want_code, resp)
                self.assertTrue(resp["error"]["message"])
        self.assertEqual(self.tb.nft_elements(), before_elems)
        self.assertEqual(self._audit_head(), before_seq)
        self.assertEqual(self._lease_count(), before_leases)

    def test_13_login_throttling(self):
        for _ in range(5):
            status, _, _ = self.tb.api("POST", "/api/v1/session",
                                       {"email": "nobody@example.com", "password": "wrong-password"},
                                       client="client2")
            self.assertEqual(status, 401)
        status, body, hdrs = self.tb.api("POST", "/api/v1/session",
                                         {"email": "nobody@example.com", "password": "wrong-password"},
                                         client="client2")
        self.assertEqual(status, 429, body)
        self.assertIn("retry-after", hdrs.lower())

    # helpers reading the store through the API
    def _audit_head(self):
        after, seq = 0, 0
        while True:
            _, page, _ = self.tb.api("GET", f"/api/v1/audit?after={after}&limit=1000", token=self.admin)
            if not page["items"]:
                return seq
            seq = page["items"][-1]["seq"]
            after = seq

    def _lease_count(self):
        _, page, _ = self.tb.api("GET", "/api/v1/leases", token=self.admin)
        return len(page["items"])


if __name__ == "__main__":
    BIN_DIR = sys.argv.pop(1)
    unittest.main(verbosity=2)
