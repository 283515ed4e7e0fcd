#!/usr/bin/env python3
"""End-to-end: the web portal in a real browser (Debian's chromium driven by
playwright-core), against a real pinholed with real nftables, in namespaces
made here.

The browser runs inside client1's namespace, so the address pinholed sees is
client1's, and the browser test checks with its own TCP connects that the
hole opened for it and closed again. This file then checks from outside what
the browser cannot see: the firewall, the audit log and another client.

Usage: test_portal.py BIN_DIR   (needs root, node and tests/browser's npm
packages; set PINHOLE_SCREENSHOTS=DIR to save screenshots of the main pages)
"""

import os
import subprocess
import sys
import unittest

from testbed import ADMIN_EMAIL, ADMIN_PASSWORD, API_PORT, CLIENTS, SERVICE_PORT, Testbed

BIN_DIR = None
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BROWSER_TEST = os.path.join(ROOT, "tests", "browser", "portal.test.mjs")


class PortalEndToEnd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tb = Testbed(BIN_DIR)
        try:
            cls.tb.start_echo_service()
            cls.tb.start_pinholed()
            cls.admin = cls.tb.login(ADMIN_EMAIL, ADMIN_PASSWORD)
        except BaseException:
            cls.tb.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.tb.close()

    def test_1_page_and_assets_carry_strict_headers(self):
        status, body, hdrs = self.tb.api("GET", "/")
        self.assertEqual(status, 200)
        self.assertIn("<html", body.lower())
        lower = hdrs.lower()
        self.assertIn("content-type: text/html", lower)
        self.assertIn("content-security-policy: default-src 'none'; script-src 'self'", lower)
        self.assertIn("frame-ancestors 'none'", lower)
        self.assertNotIn("unsafe-inline", lower)
        self.assertIn("x-frame-options: deny", lower)
        self.assertIn("x-content-type-options: nosniff", lower)
        # Client-side routes load the same page; a missing asset is a 404.
        self.assertEqual(self.tb.api("GET", "/admin/users")[1], body)
        self.assertEqual(self.tb.api("GET", "/assets/no-such-file.js")[0], 404)
        # The API keeps its JSON 404s.
        status, err, _ = self.tb.api("GET", "/api/v1/nothing-here")
        self.assertEqual((status, err["error"]["code"]), (404, "not_found"))

    def test_2_browser_flow_opens_and_closes_a_real_hole(self):
        client_ip = CLIENTS["client1"]["v4"][1]
        env = dict(os.environ,
                   PINHOLE_URL=self.tb.server_url("client1"),
                   PINHOLE_ADMIN_EMAIL=ADMIN_EMAIL,
                   PINHOLE_ADMIN_PASSWORD=ADMIN_PASSWORD,
                   PINHOLE_TARGET_HOST=CLIENTS["client1"]["v4"][0],
                   PINHOLE_TARGET_PORT=str(SERVICE_PORT),
                   PINHOLE_CLIENT_IP=client_ip,
                   PINHOLE_KEEP_OBJECTS="1",
                   PINHOLE_WORKFLOW_STEPS="1",
                   HOME=self.tb.tmp)
        proc = subprocess.run(["ip", "netns", "exec", self.tb.ns["client1"], "node", BROWSER_TEST],
                              env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
        sys.stdout.write(proc.stdout)
        sys.stdout.write(proc.stderr)
        self.assertEqual(proc.returncode, 0, f"browser test failed; pinholed log:\n{self.tb.log_tail()}")

        # The browser terminated its lease: no hole is left, and the service it
        # made (kept for this check) lets nobody in.
        _, services, _ = self.tb.api("GET", "/api/v1/services", token=self.admin)
        self.assertEqual([s["ports"] for s in services["items"]], [str(SERVICE_PORT)])
        self.assertFalse(any(self.tb.nft_elements().values()), self.tb.nft_elements())
        self.assertFalse(self.tb.can_connect("client1"))
        self.assertFalse(self.tb.can_connect("client2"))

        # The audit log saw the portal's user request and end the lease from
        # the browser's address, and the CSRF-less write changed nothing.
        _, page, _ = self.tb.api("GET", "/api/v1/audit?action=lease.&limit=1000", token=self.admin)
        leases = [e for e in page["items"] if e["actor"] != ADMIN_EMAIL]
        actions = [e["action"] for e in leases]
        # Its own lease, an invitation (accepted from this browser too), a
        # request under admin approval; each ended from the portal.
        self.assertEqual(actions.count("lease.create"), 2, actions)
        self.assertEqual(actions.count("lease.invitation_accept"), 1, actions)
        self.assertEqual(actions.count("lease.request"), 1, actions)
        self.assertEqual(actions.count("lease.terminate"), 3, actions)
        for e in leases:
            self.assertEqual(e["client_ip"], client_ip, e)
        _, all_leases, _ = self.tb.api("GET", "/api/v1/leases?state=live", token=self.admin)
        self.assertEqual(all_leases["items"], [])


if __name__ == "__main__":
    BIN_DIR = sys.argv.pop(1)
    unittest.main(verbosity=2)
