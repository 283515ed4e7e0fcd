#!/usr/bin/env python3
"""Tunnel: throughput, added latency and idle memory of `pinhole tunnel`.

    client1 ── veth ── server (pinholed, sshd, socat) ── veth ── target
                                                                 (iperf3 -s, echo)

Three relays from client1 to the target, same run, same namespaces:
  - pinhole: `pinhole tunnel` on client1's loopback -> WebSocket -> pinholed -> target
  - ssh -L:  `ssh -L` on client1's loopback -> sshd in the server namespace -> target
  - socat:   a plain TCP relay in the server namespace (the least a relay costs)
Measured: iperf3 throughput (one stream, 5 s) through each; 1-byte round-trip
times through each (added latency = pinhole p50 - socat p50); and pinholed's
RSS growth with 1,000 concurrent idle tunnels (per tunnel).
Targets: throughput >= ssh -L; added latency <= 100 us p50; <= 64 KiB per idle tunnel.

Usage: tunnel.py [BIN_DIR] [--seconds 5] [--idle 1000]   (root)
"""

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in bench/ or tests/e2e/

import benchlib  # noqa: E402
from benchlib import SERVER_V4, BenchBed, verdict

TARGET = "10.77.0.2"
IPERF_PORT = 5201
ECHO_PORT = 7
# Local ports in client1: pinhole tunnel, ssh -L; and the socat relay's in the server namespace.
PORTS = {"pinhole": (15201, 15207), "ssh -L": (15211, 15217), "socat": (15221, 15227)}
USER = ("tunnel-bench@example.com", "tunnel-bench-password-1")


class TunnelBed(BenchBed):
    def setup(self, idle):
        self.target_ns = self.add_private_host()
        self.spawn(self.target_ns, "iperf3", "-s", "-B", TARGET, "-p", str(IPERF_PORT))
        self.spawn(self.target_ns, "socat", f"TCP-LISTEN:{ECHO_PORT},bind={TARGET},fork,reuseaddr", "EXEC:cat")
        limits = max(idle + 100, 1000)
        self.start(config_extra=f"[tunnel]\nmax_per_user = {limits}\nmax_total = {limits}\n")
        ok = lambda r: r[0] in (200, 201) or (_ for _ in ()).throw(RuntimeError(r))
        tok = self.admin
        ok(self.api("POST", "/api/v1/users", {"email": USER[0], "password": USER[1], "role": "user"}, tok))
        for name, port in (("iperf", IPERF_PORT), ("pong", ECHO_PORT)):
            ok(self.api("POST", "/api/v1/services", {"name": name, "backend": "tunnel", "protocol": "tcp",
                                                     "ports": str(port), "target": {"address": TARGET, "port": port}},
                        tok))
        ok(self.api("POST", "/api/v1/policies", {"name": "tunnel-bench", "users": [USER[0]],
                                                 "services": ["iperf", "pong"], "max_duration": "10h"}, tok))
        self.home = os.path.join(self.tmp, "home-bench")
        r = self.cli("client1", "login", self.server_url("client1"), "--email", USER[0], "--password-stdin",
                     home=self.home, input=USER[1] + "\n")
        assert r.returncode == 0, r.stderr
        for svc in ("iperf", "pong"):
            self.cli("client1", "open", svc, "--for", "5h", home=self.home)
        # Relay 1: pinhole tunnel.
        for svc, port in zip(("iperf", "pong"), PORTS["pinhole"]):
            self.spawn(self.ns["client1"], "env", f"HOME={self.home}", f"XDG_CONFIG_HOME={self.home}/.config",
                       os.path.join(self.bin_dir, "pinhole"), "tunnel", svc, "--local-port", str(port),
                       "--max-connections", str(idle + 100))
        # Relay 2: ssh -L through sshd in the server namespace.
        self.start_bastion_sshd()
        fwd = []
        for local, remote in zip(PORTS["ssh -L"], (IPERF_PORT, ECHO_PORT)):
            fwd += ["-L", f"127.0.0.1:{local}:{TARGET}:{remote}"]
        self.spawn(self.ns["client1"], "ssh", "-F", "/dev/null", "-N", "-i", self.ssh_key, "-p", "2022",
                   "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                   "-o", "BatchMode=yes", "-o", "LogLevel=ERROR", *fwd, f"root@{SERVER_V4}")
        # Relay 3: socat in the server namespace.
        for local, remote in zip(PORTS["socat"], (IPERF_PORT, ECHO_PORT)):
            self.spawn(self.server, "socat", f"TCP-LISTEN:{local},bind={SERVER_V4},fork,reuseaddr",
                       f"TCP:{TARGET}:{remote},nodelay")
        for name, ports in PORTS.items():
            ns = self.server if name == "socat" else self.ns["client1"]
            for p in ports:
                self._wait(lambda: f":{p} " in self.exec_in(ns, "ss", "-ltn").stdout, f"{name} on {p}")

    def spawn(self, ns, *args):
        p = subprocess.Popen(["ip", "netns", "exec", ns, *args], stdout=subprocess.DEVNULL,
                             stderr=open(os.path.join(self.tmp, f"spawn-{len(self.procs)}.log"), "w"))
        self.procs.append(p)
        return p

    def start_bastion_sshd(self):
        d = os.path.join(self.tmp, "ssh")
        os.makedirs(d, mode=0o700)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", f"{d}/host_key"], check=True)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", f"{d}/id"], check=True)
        os.replace(f"{d}/id.pub", f"{d}/authorized_keys")
        self.ssh_key = f"{d}/id"
        with open(f"{d}/sshd_config", "w") as f:
            f.write(f"ListenAddress {SERVER_V4}:2022\nHostKey {d}/host_key\nAuthorizedKeysFile {d}/authorized_keys\n"
                    f"PidFile {d}/sshd.pid\nPermitRootLogin prohibit-password\nPasswordAuthentication no\n"
                    "UsePAM no\nStrictModes no\nAllowTcpForwarding yes\n")
        os.makedirs("/run/sshd", exist_ok=True)
        self.spawn(self.server, "/usr/sbin/sshd", "-D", "-e", "-f", f"{d}/sshd_config")
        self._wait(lambda: ":2022 " in self.exec_in(self.server, "ss", "-ltn").stdout, "sshd")

    def address(self, relay, which):
        port = PORTS[relay][which]
        return f"{SERVER_V4}:{port}" if relay == "socat" else f"127.0.0.1:{port}"

    def iperf(self, relay, seconds):
        host, _, port = self.address(relay, 0).rpartition(":")
        r = self.exec_in(self.ns["client1"], "iperf3", "-c", host, "-p", port, "-t", str(seconds), "-J",
                         check=False)
        data = json.loads(r.stdout)
        if "error" in data:
            raise RuntimeError(f"iperf3 through {relay}: {data['error']}")
        return data["end"]["sum_received"]["bits_per_second"] / 1e9

    def active_tunnels(self):
        _, text, _ = self.api("GET", "/metrics", ns=self.server)
        m = re.search(r"^pinhole_tunnels_active (\d+)", text, re.M)
        return int(m.group(1)) if m else -1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bin_dir", nargs="?")
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--idle", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    bin_dir = benchlib.bin_dir_from_argv() if args.bin_dir is None else os.path.abspath(args.bin_dir)
    benchlib.install_signal_handlers()
    print(f"tunnel benchmark, {benchlib.now_str()}; {benchlib.machine_note()}")
    tb = TunnelBed(bin_dir)
    try:
        tb.setup(args.idle)
        # Throughput, alternating relays so that background load hits all alike.
        gbps = {name: [] for name in PORTS}
        for _ in range(args.rounds):
            for name in PORTS:
                gbps[name].append(tb.iperf(name, args.seconds))
        best = {name: max(v) for name, v in gbps.items()}
        # Latency.
        rtt = {name: [] for name in PORTS}
        for _ in range(args.rounds):
            for name in PORTS:
                rtt[name] += tb.worker("pingpong", tb.address(name, 1), 2000)["rtt_us"]
        p50 = {name: benchlib.pct(v, 50) for name, v in rtt.items()}
        p99 = {name: benchlib.pct(v, 99) for name, v in rtt.items()}
        added = p50["pinhole"] - p50["socat"]
        # Idle tunnels: RSS before and with N idle tunnels held open.
        time.sleep(1)
        rss_before = tb.rss_kib()
        holder = tb.worker_async("hold", tb.address("pinhole", 1), args.idle, 120)
        line = holder.stdout.readline()
        if not line:
            raise RuntimeError("holder failed: " + holder.stderr.read())
        deadline = time.time() + 60
        while tb.active_tunnels() < args.idle and time.time() < deadline:
            time.sleep(0.2)
        active = tb.active_tunnels()
        time.sleep(1)
        rss_with = tb.rss_kib()
        holder.send_signal(signal.SIGTERM)
        per_tunnel = (rss_with - rss_before) / max(active, 1)

        print("\n  relay      throughput (best of %d)   RTT p50    RTT p99" % args.rounds)
        for name in PORTS:
            print(f"  {name:8s}  {best[name]:8.2f} Gbit/s           {p50[name]:7.1f} us {p99[name]:8.1f} us")
        print(f"\n  throughput pinhole / ssh -L: {best['pinhole'] / best['ssh -L']:.2f}x "
              f"(target >= 1): {verdict(best['pinhole'] >= best['ssh -L'])}")
        print(f"  added latency (pinhole - socat, p50): {added:.1f} us (target <= 100 us): {verdict(added <= 100)}")
        print(f"  idle tunnels: {active} active, RSS {rss_before} -> {rss_with} KiB, "
              f"{per_tunnel:.1f} KiB per tunnel (target <= 64 KiB): {verdict(per_tunnel <= 64 and active >= args.idle)}")
        benchlib.write_json_result("tunnel", {"gbps": gbps, "rtt_p50_us": p50, "rtt_p99_us": p99,
                                              "added_latency_us": added, "idle_active": active,
                                              "rss_before_kib": rss_before, "rss_with_kib": rss_with,
                                              "per_tunnel_kib": per_tunnel})
    finally:
        tb.close()


if __name__ == "__main__":
    main()
