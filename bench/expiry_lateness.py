#!/usr/bin/env python3
"""Expiry lateness: a lease's expires_at -> its packets are dropped.

Leases of ~2 s are opened for distinct /32 sources (extra addresses on the
client's veth, CIDR recipients), one every STAGGER seconds so that several are
live at once. For each, the client connects from that source every 10 ms while
the lease is valid and every 1 ms from 200 ms before expires_at; the lateness
is the launch time of the first probe that fails (and after which none
succeeds) minus expires_at. Server and client namespaces share the host clock.
A probe that fails while the lease is still valid counts as an early close.
There is no peer for this one (fwknop's expiry is a 1 s polling loop by
design); the figure is compared with the target only.

Usage: expiry_lateness.py [BIN_DIR] [--n 50] [--stagger 0.25] [--duration 2s]   (root)
"""

import argparse
import sys

sys.dont_write_bytecode = True  # no __pycache__ in bench/ or tests/e2e/

import benchlib  # noqa: E402
from benchlib import SERVER_V4, SERVICE_PORT, BenchBed, fmt_ms, summary_ms, verdict

TARGET_P99_MS = 50.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bin_dir", nargs="?")
    ap.add_argument("--n", type=int, default=50)
    ap.add_argument("--stagger", type=float, default=0.25)
    ap.add_argument("--duration", default="2s")
    args = ap.parse_args()
    sys.argv[1:] = [args.bin_dir] if args.bin_dir else []
    bin_dir = benchlib.bin_dir_from_argv()
    benchlib.install_signal_handlers()
    tb = BenchBed(bin_dir)
    try:
        tb.start()
        print(f"expiry_lateness  {benchlib.now_str()}  {benchlib.machine_note()}")
        dev = f"phc0-{tb.suffix}"
        srcs = [f"198.51.100.{10 + i}" for i in range(40)]
        for a in srcs:
            tb.exec_in(tb.ns["client1"], "ip", "addr", "add", f"{a}/24", "dev", dev)
        res = tb.worker("expiry", f"{SERVER_V4}:{benchlib.API_PORT}", tb.token, f"{SERVER_V4}:{SERVICE_PORT}",
                        args.n, args.stagger, args.duration, ",".join(srcs),
                        timeout=60 + args.n * args.stagger * 2)
    finally:
        tb.close()

    rs = res["results"]
    late = [r["late_ms"] for r in rs if r.get("late_ms") is not None]
    never = sum(1 for r in rs if r.get("never_closed"))
    flaps = sum(r.get("ok_after_fail", 0) for r in rs)
    early = [r for r in rs if r.get("early_fails")]
    s = summary_ms(late) if late else None
    print("\nresult: expiry lateness (first dropped probe - expires_at; negative = closed early)")
    if res["errors"]:
        print(f"  {len(res['errors'])} lease requests failed, first: {res['errors'][0]}")
    if s:
        print(f"  pinhole  n={s['n']:3d}  p50 {fmt_ms(s['p50'])}  p99 {fmt_ms(s['p99'])}"
              f"  min {fmt_ms(s['min'])}  max {fmt_ms(s['max'])}")
        print(f"  target p99 <= {TARGET_P99_MS:.0f} ms late: {verdict(s['p99'] <= TARGET_P99_MS and never == 0)}"
              + (" (but see the early closes below)" if s["p50"] < -5 else ""))
    print(f"  leases never closed within 5 s: {never}; probes that passed after a failed one: {flaps}")
    if early:
        firsts = sorted(r["first_early_ms"] for r in early)
        print(f"  DEFECT: leases with probes dropped BEFORE expires_at: {len(early)} of {len(rs)}; "
              f"earliest drop p50 {firsts[len(firsts) // 2]:.0f} ms, min {firsts[0]:.0f} ms relative to expiry")
    benchlib.write_json_result("expiry_lateness", {"lateness": s, "never_closed": never, "flaps": flaps,
                                                   "early": len(early), "n": len(rs),
                                                   "early_first_ms": sorted(r["first_early_ms"] for r in early)})


if __name__ == "__main__":
    main()
