#!/usr/bin/env python3
"""End-to-end: the identity-aware TCP tunnel, with a real sshd.

    client1 ── veth ── server (pinholed) ── veth ── target (sshd, echo on 7)
                                         10.77.0.1   10.77.0.2

The target namespace is reachable from the server's namespace only; client1
has no route to it. ssh from client1 reaches it through
`pinhole connect` as its ProxyCommand, and a plain TCP client through
`pinhole tunnel`.

Usage: test_tunnel.py BIN_DIR   (needs root; creates and deletes its own namespaces)
"""

import hashlib
import os
import signal
import subprocess
import sys
import time
import unittest

from testbed import ADMIN_EMAIL, ADMIN_PASSWORD, API_PORT, Testbed, run

BIN_DIR = None
USER = ("tina@example.com", "tina-password-1")
TARGET = "10.77.0.2"
ECHO_PORT = 7
LOCAL_PORT = 15007


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class TunnelEndToEnd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tb = Testbed(BIN_DIR)
        try:
            cls.target_ns = cls.tb.add_private_host()
            cls._start_sshd()
            cls._start_target_echo()
            cls.tb.start_pinholed()
            cls.admin = cls.tb.login(ADMIN_EMAIL, ADMIN_PASSWORD)
            cls._seed()
            cls.home = os.path.join(cls.tb.tmp, "home-tina")
            r = cls.tb.cli("client1", "login", cls.tb.server_url("client1"), "--email", USER[0],
                           "--password-stdin", home=cls.home, input=USER[1] + "\n")
            assert r.returncode == 0, r.stderr
            hosts = os.path.join(cls.home, ".config", "pinhole", "hosts")
            with open(hosts, "w") as f:
                f.write("# host -> tunnel service\nbastion ssh\n")
        except BaseException:
            cls.tb.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.tb.close()

    # --- set-up -----------------------------------------------------------
    @classmethod
    def _start_sshd(cls):
        tmp = cls.tb.tmp
        cls.ssh_dir = os.path.join(tmp, "ssh")
        os.makedirs(cls.ssh_dir, mode=0o700)
        run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(cls.ssh_dir, "host_key"))
        run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(cls.ssh_dir, "id"))
        os.replace(os.path.join(cls.ssh_dir, "id.pub"), os.path.join(cls.ssh_dir, "authorized_keys"))
        config = os.path.join(cls.ssh_dir, "sshd_config")
        with open(config, "w") as f:
            f.write(f"""ListenAddress {TARGET}:22
HostKey {cls.ssh_dir}/host_key
AuthorizedKeysFile {cls.ssh_dir}/authorized_keys
PidFile {cls.ssh_dir}/sshd.pid
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
Subsystem sftp internal-sftp
""")
        os.makedirs("/run/sshd", exist_ok=True)  # sshd's privilege separation directory
        with open(os.path.join(tmp, "sshd.log"), "w") as log:
            p = subprocess.Popen(["ip", "netns", "exec", cls.target_ns, "/usr/sbin/sshd", "-D", "-e", "-f", config],
                                 stdout=subprocess.DEVNULL, stderr=log)
        cls.tb.procs.append(p)
        cls.tb._wait(lambda: ":22 " in cls.tb.exec_in(cls.target_ns, "ss", "-ltn").stdout, "sshd to listen")

    @classmethod
    def _start_target_echo(cls):
        p = subprocess.Popen(["ip", "netns", "exec", cls.target_ns, "socat",
                              f"TCP-LISTEN:{ECHO_PORT},bind={TARGET},fork,reuseaddr", "EXEC:cat"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cls.tb.procs.append(p)
        cls.tb._wait(lambda: f":{ECHO_PORT} " in cls.tb.exec_in(cls.target_ns, "ss", "-ltn").stdout,
                     "echo to listen")

    @classmethod
    def _seed(cls):
        tb, tok = cls.tb, cls.admin

        def ok(r):
            assert r[0] in (200, 201), r

        ok(tb.api("POST", "/api/v1/users", {"email": USER[0], "password": USER[1], "role": "user"}, tok))
        ok(tb.api("POST", "/api/v1/services", {"name": "ssh", "backend": "tunnel", "protocol": "tcp",
                                               "ports": "22", "target": {"address": TARGET, "port": 22}}, tok))
        ok(tb.api("POST", "/api/v1/services", {"name": "echo", "backend": "tunnel", "protocol": "tcp",
                                               "ports": str(ECHO_PORT),
                                               "target": {"address": TARGET, "port": ECHO_PORT}}, tok))
        ok(tb.api("POST", "/api/v1/policies", {"name": "tunnels", "users": [USER[0]],
                                               "services": ["ssh", "echo"], "default_duration": "1h",
                                               "max_duration": "2h"}, tok))

    # --- helpers ----------------------------------------------------------
    def pinhole(self, *args, check=True, input=None):
        return self.tb.cli("client1", *args, home=self.home, check=check, input=input)

    def ssh_command(self, *extra):
        env_pinhole = os.path.join(self.tb.bin_dir, "pinhole")
        return ["ip", "netns", "exec", self.tb.ns["client1"], "env", f"HOME={self.home}",
                f"XDG_CONFIG_HOME={self.home}/.config",
                "ssh", "-F", "/dev/null", "-i", os.path.join(self.ssh_dir, "id"),
                "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "BatchMode=yes", "-o", "LogLevel=ERROR",
                "-o", f"ProxyCommand={env_pinhole} connect %h", *extra]

    def scp_command(self, *args):
        cmd = self.ssh_command()
        cmd[cmd.index("ssh")] = "scp"
        return cmd + ["-q", *args]

    def open_lease(self, service):
        r = self.pinhole("open", service, "--json")
        import json
        return json.loads(r.stdout)

    def close_all(self):
        _, page, _ = self.tb.api("GET", "/api/v1/leases?state=live", token=self.admin)
        for lease in page["items"]:
            self.tb.api("DELETE", f"/api/v1/leases/{lease['id']}", token=self.admin)

    def tunnel_events(self, after_seq=0):
        _, page, _ = self.tb.api("GET", f"/api/v1/audit?action=tunnel.&after={after_seq}&limit=1000",
                                 token=self.admin)
        return page["items"]

    def audit_head(self):
        _, page, _ = self.tb.api("GET", "/api/v1/audit?order=desc&limit=1", token=self.admin)
        return page["items"][0]["seq"] if page["items"] else 0

    def wait_for(self, cond, what, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            v = cond()
            if v:
                return v
            time.sleep(0.1)
        self.fail(f"timed out waiting for {what}")

    # --- tests ------------------------------------------------------------
    def test_1_client_has_no_route_to_the_target(self):
        r = self.tb.exec_in(self.tb.ns["client1"], "socat", "-u", "OPEN:/dev/null",
                            f"TCP:{TARGET}:22,connect-timeout=1", check=False)
        self.assertNotEqual(r.returncode, 0)

    def test_2_without_a_lease_the_tunnel_is_refused(self):
        self.close_all()
        head = self.audit_head()
        r = subprocess.run(self.ssh_command("root@bastion", "true"), capture_output=True, text=True,
                           timeout=60)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("no active lease", r.stderr)
        refused = [e for e in self.tunnel_events(head) if e["action"] == "tunnel.refused"]
        self.assertEqual(len(refused), 1, refused)
        self.assertEqual(refused[0]["actor"], USER[0])

    def test_3_ssh_through_the_tunnel_with_one_start_and_one_end_event(self):
        lease = self.open_lease("ssh")
        self.assertEqual(lease["rules"][0]["backend"], "tunnel")
        head = self.audit_head()
        r = subprocess.run(self.ssh_command("root@bastion", "echo through-the-tunnel; hostname -I"),
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("through-the-tunnel", r.stdout)
        self.assertIn(TARGET, r.stdout)
        events = self.wait_for(lambda: (lambda ev: ev if len(ev) == 2 else None)(self.tunnel_events(head)),
                               "the tunnel's end event")
        start, end = events
        self.assertEqual((start["action"], end["action"]), ("tunnel.start", "tunnel.end"))
        for e in events:
            self.assertEqual(e["actor"], USER[0])
            self.assertEqual(e["client_ip"], "198.51.100.2")
            self.assertEqual(e["details"]["lease_id"], lease["id"])
            self.assertEqual(e["details"]["target"], f"{TARGET}:22")
        self.assertGreater(end["details"]["bytes_up"], 1000)
        self.assertGreater(end["details"]["bytes_down"], 1000)
        self.assertIn("duration_ms", end["details"])
        self.assertIn(end["details"]["reason"], ("client closed", "target closed"))

    def test_4_scp_100_mb_arrives_intact(self):
        self.open_lease("ssh")
        src = os.path.join(self.tb.tmp, "big.bin")
        dst = os.path.join(self.tb.tmp, "big.copy")
        with open(src, "wb") as f:
            for _ in range(100):
                f.write(os.urandom(1 << 20))
        head = self.audit_head()
        started = time.time()
        r = subprocess.run(self.scp_command(src, f"root@bastion:{dst}"), capture_output=True, text=True,
                           timeout=600)
        elapsed = time.time() - started
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(sha256(dst), sha256(src))
        print(f"\n  scp of 100 MiB through the tunnel: {elapsed:.1f} s", file=sys.stderr)
        end = self.wait_for(lambda: next((e for e in self.tunnel_events(head) if e["action"] == "tunnel.end"),
                                         None), "the end event")
        self.assertGreaterEqual(end["details"]["bytes_up"], 100 << 20)
        os.remove(src)
        os.remove(dst)

    def test_5_terminating_the_lease_cuts_a_transfer(self):
        lease = self.open_lease("ssh")
        src = os.path.join(self.tb.tmp, "slow.bin")
        with open(src, "wb") as f:
            f.write(os.urandom(20 << 20))
        head = self.audit_head()
        # -l 4000 Kbit/s: 20 MiB take ~40 s, so the lease ends mid-transfer.
        scp = subprocess.Popen(self.scp_command("-l", "4000", src, f"root@bastion:{src}.copy"),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.wait_for(lambda: any(e["action"] == "tunnel.start" for e in self.tunnel_events(head)),
                      "the transfer to start")
        time.sleep(1.0)
        status, _, _ = self.tb.api("DELETE", f"/api/v1/leases/{lease['id']}", token=self.admin)
        self.assertEqual(status, 200)
        cut_at = time.time()
        try:
            rc = scp.wait(timeout=15)
        except subprocess.TimeoutExpired:
            scp.kill()
            self.fail("scp went on after the lease was terminated")
        self.assertNotEqual(rc, 0)
        self.assertLess(time.time() - cut_at, 10)
        end = self.wait_for(lambda: next((e for e in self.tunnel_events(head) if e["action"] == "tunnel.end"),
                                         None), "the end event")
        self.assertEqual(end["details"]["reason"], "lease ended")
        self.assertLess(end["details"]["bytes_up"], 20 << 20)
        os.remove(src)

    def test_6_pinhole_tunnel_serves_a_plain_tcp_client_with_exact_byte_counts(self):
        self.open_lease("echo")
        head = self.audit_head()
        tunnel = subprocess.Popen(
            ["ip", "netns", "exec", self.tb.ns["client1"], "env", f"HOME={self.home}",
             f"XDG_CONFIG_HOME={self.home}/.config", os.path.join(self.tb.bin_dir, "pinhole"), "tunnel",
             "echo", "--local-port", str(LOCAL_PORT)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            self.wait_for(lambda: f":{LOCAL_PORT} " in self.tb.exec_in(self.tb.ns["client1"], "ss", "-ltn").stdout,
                          "pinhole tunnel to listen")
            payload = os.urandom(3 << 20)
            # socat sends the payload, half-closes, and prints what comes back.
            r = subprocess.run(["ip", "netns", "exec", self.tb.ns["client1"], "socat", "-t", "10", "-",
                                f"TCP:127.0.0.1:{LOCAL_PORT}"], input=payload, capture_output=True,
                               timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(len(r.stdout), len(payload))
            self.assertEqual(r.stdout, payload)
            end = self.wait_for(lambda: next((e for e in self.tunnel_events(head)
                                              if e["action"] == "tunnel.end"), None), "the end event")
            self.assertEqual(end["details"]["bytes_up"], len(payload))
            self.assertEqual(end["details"]["bytes_down"], len(payload))
            self.assertEqual(end["details"]["target"], f"{TARGET}:{ECHO_PORT}")
        finally:
            tunnel.send_signal(signal.SIGINT)
            try:
                tunnel.wait(timeout=10)
            except subprocess.TimeoutExpired:
                tunnel.kill()

    def test_7_metrics_count_tunnels(self):
        status, text, _ = self.tb.api("GET", "/metrics")
        self.assertEqual(status, 200)
        for name in ("pinhole_tunnels_active", "pinhole_tunnel_bytes_total",
                     "pinhole_tunnel_dial_failures_total", "pinhole_tunnels_refused_total"):
            self.assertIn(name, text)
        self.assertIn("pinhole_tunnels_active 0", text)


if __name__ == "__main__":
    BIN_DIR = sys.argv.pop(1)
    unittest.main(verbosity=2)
