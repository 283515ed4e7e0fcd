#!/usr/bin/env python3
"""Scale: 100,000 active leases in one pinholed.

1. A reference testbed (its own namespaces and pinholed, in a child process)
   holds 100 active CIDR leases.
2. The main testbed is filled to COUNT distinct /32 CIDR leases (10 h, many
   kept-alive clients); the kernel set is checked to hold them; VmRSS.
3. Open latency (the method of open_latency.py) at COUNT vs at 100, measured
   in alternating rounds on the two testbeds so both see the same background
   load (the machine is shared); ratio of the two.
4. Restart: SIGTERM, start, time until GET /readyz is 200; RSS after restart.
Peer for 3: libnftables itself adding one timed element to a set of 100 vs
COUNT elements, in a third namespace (shows what the kernel/libnftables part
of an open costs at that size).

Usage: scale.py [BIN_DIR] [--count 100000] [--n 200] [--procs 4] [--threads 8]   (root)
"""

import argparse
import json
import multiprocessing
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in bench/ or tests/e2e/

import benchlib  # noqa: E402
from benchlib import BenchBed, fmt_ms, verdict
from create_throughput import create_leases
from open_latency import pinhole_open_latency

TARGET_RSS_MIB = 200.0
TARGET_LATENCY_RATIO = 2.0


def kernel_elements(tb):
    """Number of elements in Pinhole's IPv4 /32 sets (via `nft -j list table`)."""
    out = tb.exec_in(tb.server, "nft", "-j", "list", "table", "inet", tb.table, check=False).stdout
    n = 0
    for item in json.loads(out or '{"nftables": []}')["nftables"]:
        s = item.get("set")
        if s and s.get("type") == "ipv4_addr":
            n += len(s.get("elem", []))
    return n


def reference_bed(bin_dir, leases, conn):
    """Child process: a second testbed with `leases` leases, measured on request."""
    benchlib.install_signal_handlers()
    tb = BenchBed(bin_dir)
    try:
        tb.start()
        c = create_leases(tb, 1, 4, quota_total=leases)
        conn.send(("ready", c["ok"], tb.rss_kib()))
        while True:
            cmd = conn.recv()
            if cmd[0] != "open":
                break
            conn.send(pinhole_open_latency(tb, cmd[1])[2]["samples"])
    except BaseException as e:  # noqa: BLE001 - reported to the parent
        try:
            conn.send(("error", repr(e)))
        except OSError:
            pass
    finally:
        tb.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bin_dir", nargs="?")
    ap.add_argument("--count", type=int, default=100_000)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--procs", type=int, default=4)
    ap.add_argument("--threads", type=int, default=8)
    args = ap.parse_args()
    sys.argv[1:] = [args.bin_dir] if args.bin_dir else []
    bin_dir = benchlib.bin_dir_from_argv()
    benchlib.install_signal_handlers()
    parent, child = multiprocessing.Pipe()
    ref = multiprocessing.get_context("fork").Process(target=reference_bed, args=(bin_dir, 100, child))
    tb = None
    try:
        ref.start()
        msg = parent.recv()
        if msg[0] != "ready":
            raise RuntimeError(f"reference testbed failed: {msg}")
        small, rss_small = msg[1], msg[2]
        tb = BenchBed(bin_dir)
        tb.start()
        print(f"scale  {benchlib.now_str()}  {benchlib.machine_note()}")
        t0 = time.time()
        c1 = create_leases(tb, args.procs, args.threads, quota_total=args.count)
        active = c1["ok"]
        print(f"  created {c1['ok']} in {time.time() - t0:.1f} s ({c1['rate']:.0f}/s, p50 "
              f"{c1['p50']:.1f} ms, p99 {c1['p99']:.1f} ms, {c1['errors']} errors {c1['statuses']}); "
              f"per-second rate first 3 s {c1['per_s'][:3]}, last 3 s {c1['per_s'][-3:]}", flush=True)
        time.sleep(2)
        rss_big = tb.rss_kib()
        status_big = tb.proc_status("VmRSS", "RssAnon", "RssFile", "VmHWM", "Threads")
        elems = kernel_elements(tb)
        s_small, s_big = [], []
        rounds = 4
        for _ in range(rounds):
            parent.send(("open", args.n // rounds))
            got = parent.recv()
            if isinstance(got, tuple):
                raise RuntimeError(f"reference testbed failed: {got}")
            s_small += got
            s_big += pinhole_open_latency(tb, args.n // rounds)[2]["samples"]
        parent.send(("stop",))
        acc_small = benchlib.summary_ms([x["accept_ms"] for x in s_small])
        acc_big = benchlib.summary_ms([x["accept_ms"] for x in s_big])
        print(f"  open at {small}: p50 {acc_small['p50']:.2f} ms p99 {acc_small['p99']:.2f} ms; at {active}: "
              f"p50 {acc_big['p50']:.2f} ms p99 {acc_big['p99']:.2f} ms; RSS {rss_big / 1024:.1f} MiB, "
              f"kernel elements {elems}", flush=True)
        t_stop, t_ready = tb.restart_timed()
        time.sleep(1)
        rss_restart = tb.rss_kib()
        status_restart = tb.proc_status("VmRSS", "RssAnon", "RssFile", "VmHWM", "Threads")
        elems_restart = kernel_elements(tb)
        nft_peer = tb.worker("nft_peer", f"{small},{args.count}", 200, client="client2", timeout=300)
    finally:
        if tb:
            tb.close()
        parent.close()  # the reference testbed sees EOF and cleans up
        ref.join(timeout=30)
        if ref.is_alive():
            ref.terminate()
            ref.join(timeout=10)

    ratio = acc_big["p50"] / acc_small["p50"]
    ratio99 = acc_big["p99"] / acc_small["p99"]
    np_small, np_big = nft_peer[str(small)], nft_peer[str(args.count)]
    print(f"\nresult: scale ({active} active leases; {c1['connections']} clients created them at "
          f"{c1['rate']:.0f}/s)")
    print(f"  RSS        {rss_small / 1024:7.1f} MiB at {small}, {rss_big / 1024:7.1f} MiB at {active}, "
          f"{rss_restart / 1024:7.1f} MiB after restart   target <= {TARGET_RSS_MIB:.0f} MiB: "
          f"{verdict(max(rss_big, rss_restart) / 1024 <= TARGET_RSS_MIB)}")
    print(f"  /proc status at {active}: {status_big}")
    print(f"  /proc status after restart: {status_restart}")
    print(f"  kernel set elements: {elems} before restart, {elems_restart} after")
    print(f"  restart    stop (SIGTERM -> exit) {t_stop:.2f} s, start -> /readyz 200 {t_ready:.2f} s")
    print(f"  open at {small:6d}: p50 {fmt_ms(acc_small['p50'])}  p99 {fmt_ms(acc_small['p99'])}")
    print(f"  open at {active:6d}: p50 {fmt_ms(acc_big['p50'])}  p99 {fmt_ms(acc_big['p99'])}")
    print(f"  ratio {active} / {small}: p50 {ratio:.2f}x, p99 {ratio99:.2f}x   target <= "
          f"{TARGET_LATENCY_RATIO:.0f}x: {verdict(ratio <= TARGET_LATENCY_RATIO)} (p50), "
          f"{verdict(ratio99 <= TARGET_LATENCY_RATIO)} (p99)")
    print(f"  peer: libnftables add-element p50 {np_small['p50']:.3f} ms at {small}, {np_big['p50']:.3f} ms at "
          f"{args.count} elements ({np_big['p50'] / np_small['p50']:.2f}x); p99 {np_small['p99']:.2f} / "
          f"{np_big['p99']:.2f} ms")
    benchlib.write_json_result("scale", {"nft_peer": nft_peer,
        "active": active, "rss_kib_small": rss_small, "rss_kib_big": rss_big, "rss_kib_restart": rss_restart,
        "status_big": status_big, "status_restart": status_restart,
        "elements": elems, "elements_restart": elems_restart, "stop_s": t_stop, "ready_s": t_ready,
        "open_small": acc_small, "open_big": acc_big, "ratio_p50": ratio, "ratio_p99": ratio99,
        "create": c1})


if __name__ == "__main__":
    main()
