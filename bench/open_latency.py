#!/usr/bin/env python3
"""Open latency: request -> first TCP connection accepted, Pinhole vs fwknop.

Pinhole: a kept-alive HTTP connection from the client namespace sends
POST /api/v1/leases (bearer token); from that instant the client starts a
non-blocking connect to the protected port every 200 us until one completes.
Each iteration then DELETEs the lease and checks that the port is closed.

fwknop (Debian fwknop-server 2.6.10, the peer): fwknopd runs in the server
namespace with its own config dir, sniffs the veth with libpcap and opens an
iptables (iptables-nft) rule in its FWKNOP_INPUT chain; its port is different
from Pinhole's and Pinhole does not filter it. The SPA packet is built
beforehand by the fwknop client (--test --save-packet) and sent by the worker
as a plain UDP datagram, so the clock starts when the packet leaves, exactly as
Pinhole's starts when the request leaves. Between iterations FWKNOP_INPUT is
flushed. fwknopd is measured as Debian ships it (pcap loop sleeping 100 ms
between polls) and tuned (PCAP_LOOP_SLEEP 1 ms), both reported.

A last run with the store on tmpfs (a diagnostic, not a peer) shows how much
of Pinhole's figure is the disk's fsync.

Usage: open_latency.py [BIN_DIR] [--n N] [--fwknop-n N] [--no-diag]   (root)
"""

import argparse
import base64
import json
import os
import subprocess
import shutil
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in bench/ or tests/e2e/

import benchlib  # noqa: E402
from benchlib import CLIENT_V4, SERVER_V4, SERVICE_PORT, BenchBed, fmt_ms, summary_ms, verdict

FWKNOP_PORT = SERVICE_PORT + 1
SPA_PORT = 62201


def pinhole_open_latency(tb, n):
    """Runs n iterations; returns (accept summary, reply summary, raw result)."""
    res = tb.worker("open_pinhole", f"{SERVER_V4}:{benchlib.API_PORT}", tb.token,
                    f"{SERVER_V4}:{SERVICE_PORT}", n, timeout=60 + n * 2)
    if res["errors"]:
        print(f"  pinhole: {len(res['errors'])} failed requests, first: {res['errors'][0]}")
    acc = summary_ms([s["accept_ms"] for s in res["samples"]])
    rep = summary_ms([s["reply_ms"] for s in res["samples"]])
    return acc, rep, res


class Fwknopd:
    """fwknopd in the testbed's server namespace, configured in a temp dir."""

    def __init__(self, tb, name, loop_sleep_us=None, udp_server=False):
        self.tb = tb
        self.dir = os.path.join(tb.tmp, f"fwknop-{name}")
        os.makedirs(self.dir)
        self.key = base64.b64encode(os.urandom(32)).decode()
        self.hmac = base64.b64encode(os.urandom(64)).decode()
        self.iface = f"phs0-{tb.suffix}"  # the server side of client1's veth
        conf = os.path.join(self.dir, "fwknopd.conf")
        with open(conf, "w") as f:
            f.write(f"PCAP_INTF {self.iface};\n"
                    "FIREWALL_EXE /usr/sbin/iptables;\n"
                    "ENABLE_DIGEST_PERSISTENCE N;\n")
            if loop_sleep_us is not None:
                f.write(f"PCAP_LOOP_SLEEP {loop_sleep_us};\n")
        access = os.path.join(self.dir, "access.conf")
        with open(access, "w") as f:
            f.write("SOURCE ANY\n"
                    f"OPEN_PORTS tcp/{FWKNOP_PORT}\n"
                    f"KEY_BASE64 {self.key}\n"
                    f"HMAC_KEY_BASE64 {self.hmac}\n"
                    "FW_ACCESS_TIMEOUT 60\n")
        os.chmod(access, 0o600)
        os.chmod(conf, 0o600)
        args = ["ip", "netns", "exec", tb.server, "fwknopd", "-f", "-c", conf, "-a", access,
                "-p", os.path.join(self.dir, "fwknopd.pid"), "-d", os.path.join(self.dir, "digest.cache"),
                "-r", self.dir, "-i", self.iface]
        if udp_server:
            args.append("-U")
        self.log = open(os.path.join(self.dir, "fwknopd.log"), "w")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        tb.procs.append(self.proc)
        tb._wait(lambda: tb.exec_in(tb.server, "iptables", "-S", "FWKNOP_INPUT", check=False).returncode == 0
                 and self.proc.poll() is None, "fwknopd to create FWKNOP_INPUT")
        time.sleep(0.3)  # let the capture loop start
        # fwknop opens holes but does not close the port: the default drop is ours.
        if tb.exec_in(tb.server, "iptables", "-C", "INPUT", "-p", "tcp", "--dport", str(FWKNOP_PORT),
                      "-j", "DROP", check=False).returncode != 0:
            tb.exec_in(tb.server, "iptables", "-A", "INPUT", "-p", "tcp", "--dport", str(FWKNOP_PORT),
                       "-j", "DROP")

    def spa_args(self):
        pkt = os.path.join(self.dir, "spa.pkt")
        cmd = ["fwknop", "-A", f"tcp/{FWKNOP_PORT}", "-a", CLIENT_V4, "-D", SERVER_V4,
               "--key-base64-rijndael", self.key, "--key-base64-hmac", self.hmac, "--use-hmac",
               "--test", "-B", pkt, "--rc-file", os.path.join(self.dir, "fwknoprc"), "--no-save-args"]
        return json.dumps({"cmd": cmd, "file": pkt, "server": SERVER_V4, "port": SPA_PORT})

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


def fwknop_open_latency(tb, name, n, **kw):
    d = Fwknopd(tb, name, **kw)
    try:
        res = tb.worker("open_fwknop", f"{SERVER_V4}:{FWKNOP_PORT}", n, tb.server, d.spa_args(),
                        timeout=120 + n * 6)
    finally:
        d.stop()
    if res["errors"]:
        print(f"  fwknop {name}: {len(res['errors'])} SPA packets never opened the port")
    return summary_ms([s["accept_ms"] for s in res["samples"]]), res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bin_dir", nargs="?")
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--fwknop-n", type=int, default=100)
    ap.add_argument("--no-diag", action="store_true", help="skip the store-on-tmpfs diagnostic run")
    args = ap.parse_args()
    sys.argv[1:] = [args.bin_dir] if args.bin_dir else []
    bin_dir = benchlib.bin_dir_from_argv()
    benchlib.install_signal_handlers()
    tb = BenchBed(bin_dir)
    try:
        tb.start(sink_ports=(SERVICE_PORT, FWKNOP_PORT))
        print(f"open_latency  {benchlib.now_str()}  {benchlib.machine_note()}")
        # Pinhole must not filter fwknop's port.
        if not tb.worker("open_fwknop_precheck", f"{SERVER_V4}:{FWKNOP_PORT}")["open"]:
            raise SystemExit("fwknop's port is not reachable before fwknop is configured")
        acc, rep, _ = pinhole_open_latency(tb, args.n)
        fw_def, _ = fwknop_open_latency(tb, "default", args.fwknop_n)
        fw_tuned, _ = fwknop_open_latency(tb, "tuned", args.fwknop_n, loop_sleep_us=1000)
    finally:
        tb.close()
    diag = None
    if not args.no_diag:
        # Diagnostic, not a peer: the same server with its store on tmpfs, so
        # that the difference to the first row is the cost of fsync on this disk.
        shm = tempfile.mkdtemp(prefix="pinhole-bench-", dir="/dev/shm")
        tb = BenchBed(bin_dir)
        try:
            tb.db = os.path.join(shm, "pinhole.db")
            tb.start()
            diag, _, _ = pinhole_open_latency(tb, args.n)
        finally:
            tb.close()
            shutil.rmtree(shm, ignore_errors=True)

    r_def = fw_def["p50"] / acc["p50"]
    r_tuned = fw_tuned["p50"] / acc["p50"]
    print("\nresult: open latency (request sent -> first TCP connect accepted)")
    print(f"  pinhole  accept   n={acc['n']:4d} p50 {fmt_ms(acc['p50'])}  p99 {fmt_ms(acc['p99'])}"
          f"  max {fmt_ms(acc['max'])}")
    print(f"  pinhole  API reply         p50 {fmt_ms(rep['p50'])}  p99 {fmt_ms(rep['p99'])}")
    if diag:
        print(f"  pinhole  accept, store on tmpfs (diagnostic: no disk fsync) p50 {fmt_ms(diag['p50'])}  "
              f"p99 {fmt_ms(diag['p99'])}")
    print(f"  fwknop   default  n={fw_def['n']:4d} p50 {fmt_ms(fw_def['p50'])}  p99 {fmt_ms(fw_def['p99'])}"
          "  (PCAP_LOOP_SLEEP 100 ms, Debian default)")
    print(f"  fwknop   tuned    n={fw_tuned['n']:4d} p50 {fmt_ms(fw_tuned['p50'])}  p99 "
          f"{fmt_ms(fw_tuned['p99'])}  (PCAP_LOOP_SLEEP 1 ms)")
    print(f"  ratio fwknop p50 / pinhole p50: default {r_def:.1f}x, tuned {r_tuned:.1f}x   "
          f"target >= 10x: {verdict(r_def >= 10)} (default), {verdict(r_tuned >= 10)} (tuned)")
    print(f"  pinhole p99 {acc['p99']:.2f} ms, target <= 10 ms: {verdict(acc['p99'] <= 10)}")
    benchlib.write_json_result("open_latency", {"pinhole_accept": acc, "pinhole_reply": rep, "pinhole_tmpfs_diag": diag,
                                                "fwknop_default": fw_def, "fwknop_tuned": fw_tuned,
                                                "ratio_default": r_def, "ratio_tuned": r_tuned})


if __name__ == "__main__":
    main()
