#!/usr/bin/env python3
"""Durable lease creations per second, sustained, with concurrent clients.

PROCS worker processes x THREADS kept-alive HTTP connections in the client
namespace POST /api/v1/leases with CIDR recipients, each a distinct /32 in
10.0.0.0/8 (the policy allows CIDR recipients with prefix 32), for SECONDS.
Every 201 is a lease committed to SQLite and applied to nftables before the
reply. Reported: creations/s, latency p50/p99, pinholed's CPU share.

Peer: the raw SQLite rate on the same disk and directory, one INSERT per
committed transaction, journal_mode=WAL, synchronous=FULL (one fsync per
commit), single writer: the ceiling for "one durable transaction per lease"
without group commit.

Usage: create_throughput.py [BIN_DIR] [--seconds 15] [--procs 4] [--threads 8]   (root)
"""

import argparse
import os
import sqlite3
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in bench/ or tests/e2e/

import benchlib  # noqa: E402
from benchlib import SERVER_V4, BenchBed, fmt_ms, pct, verdict

TARGET_PER_S = 2000.0


def sqlite_fsync_rate(directory, seconds=5.0):
    path = os.path.join(directory, "peer.db")
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, cidr TEXT NOT NULL, expires INTEGER NOT NULL)")
        n = 0
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT INTO t (cidr, expires) VALUES (?, ?)", (f"10.0.0.{n & 255}/32", n))
            db.execute("COMMIT")
            n += 1
        return n / (time.perf_counter() - t0)
    finally:
        db.close()
        for suffix in ("", "-wal", "-shm"):
            try:
                os.unlink(path + suffix)
            except FileNotFoundError:
                pass


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def create_leases(tb, procs, threads, seconds=0.0, quota_total=0, lease_duration="10h", base=0):
    """Runs the creation load; returns a dict with rate, latencies and errors.

    Either `seconds` (time-bound) or `quota_total` (count-bound) is set.
    """
    start_at = time.time() + 2.0  # time for the workers to start up
    end_at = start_at + (seconds if seconds else 3600)
    per_thread = -(-quota_total // (procs * threads)) if quota_total else 0
    pid = tb.pinholed_pid()
    ps = []
    for p in range(procs):
        ps.append(tb.worker_async("create", f"{SERVER_V4}:{benchlib.API_PORT}", tb.token, threads, start_at,
                                  end_at, per_thread, base + p * threads * (1 << 18), lease_duration))
    while time.time() < start_at:
        time.sleep(0.01)
    c0 = cpu_ticks(pid)
    outs = []
    for p in ps:
        out, err = p.communicate(timeout=(seconds or 3600) + 120)
        if p.returncode != 0:
            raise RuntimeError(f"create worker failed: {err[-3000:]}")
        outs.append(benchlib.json.loads(out))
    c1 = cpu_ticks(pid)
    ths = [t for o in outs for t in o["threads"]]
    wall = max(t["finished"] for t in ths) - start_at
    lat = [x for t in ths for x in t["lat"]]
    statuses = {}
    for t in ths:
        for k, (cnt, body) in t["statuses"].items():
            statuses.setdefault(k, [0, body])[0] += cnt
    per_s = {}
    for t in ths:
        for k, v in t["per_s"].items():
            per_s[int(k)] = per_s.get(int(k), 0) + v
    series = [per_s.get(k, 0) for k in range(int(wall))]  # whole seconds only
    return {"per_s": series, "ok": len(lat), "errors": sum(t["errors"] for t in ths), "statuses": statuses,
            "reconnects": sum(t["reconnects"] for t in ths), "wall_s": wall, "rate": len(lat) / wall,
            "p50": pct(lat, 50), "p99": pct(lat, 99), "max": max(lat) if lat else float("nan"),
            "pinholed_cpu": (c1 - c0) / os.sysconf("SC_CLK_TCK") / wall, "connections": procs * threads}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bin_dir", nargs="?")
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--procs", type=int, default=4)
    ap.add_argument("--threads", type=int, default=8)
    args = ap.parse_args()
    sys.argv[1:] = [args.bin_dir] if args.bin_dir else []
    bin_dir = benchlib.bin_dir_from_argv()
    benchlib.install_signal_handlers()
    tb = BenchBed(bin_dir)
    try:
        tb.start()
        print(f"create_throughput  {benchlib.now_str()}  {benchlib.machine_note()}")
        peer = sqlite_fsync_rate(tb.tmp)
        r = create_leases(tb, args.procs, args.threads, seconds=args.seconds)
        rss = tb.rss_kib()
    finally:
        tb.close()
    print("\nresult: durable lease creations (POST /api/v1/leases -> 201)")
    print(f"  pinhole  {r['rate']:8.0f} /s  over {r['wall_s']:.1f} s, {r['connections']} keep-alive connections,"
          f" {r['ok']} created, {r['errors']} errors, {r['reconnects']} reconnects")
    print(f"  pinhole  latency p50 {fmt_ms(r['p50'])}  p99 {fmt_ms(r['p99'])}  max {fmt_ms(r['max'])}")
    print(f"  pinholed CPU {r['pinholed_cpu'] * 100:.0f}% of one core, RSS after {rss / 1024:.1f} MiB")
    if r["per_s"]:
        print(f"  per-second rate: min {min(r['per_s'])}, max {max(r['per_s'])}, "
              f"first 3 s {r['per_s'][:3]}, last 3 s {r['per_s'][-3:]}")
    if r["statuses"]:
        print(f"  error statuses: {r['statuses']}")
    print(f"  sqlite   {peer:8.0f} /s  (one INSERT per fsynced WAL commit, same disk; "
          f"{1000 / peer:.1f} ms per commit)")
    print(f"  ratio pinhole / sqlite-fsync: {r['rate'] / peer:.2f}x")
    print(f"  target >= {TARGET_PER_S:.0f}/s: {verdict(r['rate'] >= TARGET_PER_S and r['errors'] == 0)}")
    benchlib.write_json_result("create_throughput", {"pinhole": r, "sqlite_fsync_per_s": peer,
                                                     "ratio": r["rate"] / peer, "rss_kib": rss})


if __name__ == "__main__":
    main()
