#!/usr/bin/env python3
"""The half of each benchmark that runs inside a namespace (via `ip netns exec`).

Modes (each prints one JSON object on stdout):
  sink PORT...                        accept-and-close TCP listener (server side)
  open_pinhole API TOKEN TARGET N     POST lease -> first accepted connect, N times
  open_fwknop TARGET N SRV_NS SPA_ARGS_JSON
                                      SPA packet sent -> first accepted connect
  expiry API TOKEN TARGET N STAGGER_S DURATION_S SRC_IPS_CSV
                                      lease expires_at -> first failing probe
  create API TOKEN THREADS START_AT END_AT QUOTA BASE DURATION
                                      keep-alive POST /api/v1/leases loop
  pingpong TARGET N                   1-byte round trips on one connection to an echo
  hold TARGET N SECONDS               opens N idle connections, says so, holds them
API and TARGET are HOST:PORT. Times are measured here, in the client.
"""

import errno
import http.client
import json
import os
import queue
import select
import socket
import struct
import subprocess
import sys
import threading
import time
from datetime import datetime

LINGER0 = struct.pack("ii", 1, 0)


def hostport(s):
    h, _, p = s.rpartition(":")
    return h, int(p)


class Api:
    """One kept-alive HTTP/1.1 connection with a bearer token."""

    def __init__(self, api, token):
        self.host, self.port = hostport(api)
        self.token = token
        self.reconnects = 0
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)

    def send(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        hdrs = {"Authorization": f"Bearer {self.token}"}
        if data is not None:
            hdrs["Content-Type"] = "application/json"
        try:
            self.conn.request(method, path, body=data, headers=hdrs)
        except (ConnectionError, http.client.HTTPException, OSError):
            self._reconnect()
            self.conn.request(method, path, body=data, headers=hdrs)
        return method, path, body

    def receive(self, sent=None):
        try:
            r = self.conn.getresponse()
            raw = r.read()
        except (ConnectionError, http.client.HTTPException, OSError):
            if sent is None:
                raise
            # The server closed an idle kept-alive connection: send again once.
            self._reconnect()
            self.send(*sent)
            r = self.conn.getresponse()
            raw = r.read()
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = raw.decode(errors="replace")
        return r.status, payload

    def call(self, method, path, body=None):
        return self.receive(self.send(method, path, body))

    def _reconnect(self):
        self.reconnects += 1
        self.conn.close()
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)


def new_probe(target, src=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER0)  # close = RST, no TIME_WAIT
    if src:
        s.bind((src, 0))
    s.setblocking(False)
    err = s.connect_ex(target)
    return s, err


def probe_until_open(target, t_start, extra_fd=None, interval=0.0002, attempt_life=0.01, limit=10.0):
    """Starts a non-blocking connect every `interval` s until one completes.

    Returns (t_accept, t_extra_readable) in perf_counter seconds; t_extra is when
    `extra_fd` (the API socket) first became readable, or None.
    """
    ep = select.epoll()
    pending = {}
    t_extra = None
    if extra_fd is not None:
        ep.register(extra_fd, select.EPOLLIN)
    nxt = time.perf_counter()
    try:
        while True:
            now = time.perf_counter()
            if now - t_start > limit:
                raise TimeoutError("port never opened")
            if now >= nxt:
                s, err = new_probe(target)
                if err == 0:
                    s.close()
                    return now, t_extra
                if err == errno.EINPROGRESS:
                    pending[s.fileno()] = (s, now)
                    ep.register(s.fileno(), select.EPOLLOUT)
                else:
                    s.close()
                nxt = max(nxt + interval, now)
            for fd, ev in ep.poll(0):
                if fd == extra_fd:
                    if t_extra is None:
                        t_extra = time.perf_counter()
                    ep.unregister(fd)
                    continue
                s, t0 = pending.pop(fd)
                ep.unregister(fd)
                ok = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
                s.close()
                if ok:
                    return time.perf_counter(), t_extra
            for fd, (s, t0) in list(pending.items()):
                if now - t0 > attempt_life:
                    ep.unregister(fd)
                    s.close()
                    del pending[fd]
            left = nxt - time.perf_counter()
            if left > 0:
                time.sleep(left)
    finally:
        for s, _ in pending.values():
            s.close()
        ep.close()


def port_is_closed(target, wait=0.05):
    s, err = new_probe(target)
    try:
        if err == 0:
            return False
        r = select.select([], [s], [], wait)[1]
        return not (r and s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0)
    finally:
        s.close()


def wait_closed(target, timeout=5.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if port_is_closed(target):
            return True
    return False


# --- modes ------------------------------------------------------------
def mode_sink(*ports):
    socks = []
    for p in ports:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.bind(("::", int(p)))
        s.listen(4096)
        s.setblocking(False)
        socks.append(s)
    print(json.dumps({"listening": list(ports)}), flush=True)
    while True:
        r, _, _ = select.select(socks, [], [])
        for s in r:
            while True:
                try:
                    c, _ = s.accept()
                except BlockingIOError:
                    break
                c.close()  # a FIN, not a RST: a RST could race the client's connect check


def mode_open_pinhole(api, token, target, n):
    target, n = hostport(target), int(n)
    a = Api(api, token)
    if not wait_closed(target):
        raise SystemExit("protected port is open before the first lease")
    samples, errors = [], []
    for i in range(n):
        body = {"services": ["echo"], "duration": "10m"}
        t0 = time.perf_counter()
        sent = a.send("POST", "/api/v1/leases", body)
        t_acc, t_reply = probe_until_open(target, t0, extra_fd=a.conn.sock.fileno())
        status, lease = a.receive(sent)
        t_done = time.perf_counter()
        if status != 201 or lease.get("state") != "active":
            errors.append([status, lease])
            continue
        samples.append({"accept_ms": (t_acc - t0) * 1e3,
                        "reply_ms": ((t_reply or t_done) - t0) * 1e3})
        status, _ = a.call("DELETE", f"/api/v1/leases/{lease['id']}")
        if status != 200:
            errors.append([status, "delete"])
        if not wait_closed(target):
            raise SystemExit(f"port still open after DELETE of lease {lease['id']}")
    print(json.dumps({"samples": samples, "errors": errors, "reconnects": a.reconnects}))


def mode_open_fwknop(target, n, srv_ns, spa_args_json):
    target, n = hostport(target), int(n)
    spa = json.loads(spa_args_json)  # {"cmd": [...fwknop args...], "file": path, "server": ip}
    close_cmd = ["ip", "netns", "exec", srv_ns, "iptables", "-F", "FWKNOP_INPUT"]
    if not wait_closed(target):
        raise SystemExit("fwknop port is open before the first SPA packet")
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    samples, errors = [], []
    for i in range(n):
        try:
            os.unlink(spa["file"])
        except FileNotFoundError:
            pass
        r = subprocess.run(spa["cmd"], capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"fwknop client failed: {r.stdout}{r.stderr}")
        with open(spa["file"]) as f:
            packet = f.read().strip().encode()
        t0 = time.perf_counter()
        u.sendto(packet, (spa["server"], spa["port"]))
        try:
            t_acc, _ = probe_until_open(target, t0, limit=5.0)
        except TimeoutError:
            errors.append(i)
            subprocess.run(close_cmd, capture_output=True)
            continue
        samples.append({"accept_ms": (t_acc - t0) * 1e3})
        subprocess.run(close_cmd, check=True, capture_output=True)
        if not wait_closed(target):
            raise SystemExit("fwknop port still open after flushing FWKNOP_INPUT")
    print(json.dumps({"samples": samples, "errors": errors}))


def mode_open_fwknop_precheck(target):
    print(json.dumps({"open": not port_is_closed(hostport(target), wait=1.0)}))


def mode_wait_ready(api, timeout):
    host, port = hostport(api)
    deadline = time.time() + float(timeout)
    while time.time() < deadline:
        try:
            c = http.client.HTTPConnection(host, port, timeout=5)
            c.request("GET", "/readyz")
            r = c.getresponse()
            r.read()
            c.close()
            if r.status == 200:
                print(json.dumps({"ready_at": time.time()}))
                return
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.005)
    raise SystemExit("not ready in time")


def mode_nft_peer(sizes_csv, iters):
    """libnftables itself (via ctypes), in a namespace of its own: time to add
    one timed element to a set holding N elements, then delete it, for each N.
    The same JSON command shape Pinhole sends."""
    import ctypes
    lib = ctypes.CDLL("libnftables.so.1")
    lib.nft_ctx_new.restype = ctypes.c_void_p
    lib.nft_run_cmd_from_buffer.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.nft_ctx_buffer_output.argtypes = [ctypes.c_void_p]
    lib.nft_ctx_buffer_error.argtypes = [ctypes.c_void_p]
    lib.nft_ctx_get_error_buffer.argtypes = [ctypes.c_void_p]
    lib.nft_ctx_get_error_buffer.restype = ctypes.c_char_p
    ctx = lib.nft_ctx_new(0)
    lib.nft_ctx_buffer_output(ctx)
    lib.nft_ctx_buffer_error(ctx)

    lib.nft_ctx_output_set_flags.argtypes = [ctypes.c_void_p, ctypes.c_uint]
    lib.nft_ctx_output_get_flags.argtypes = [ctypes.c_void_p]
    plain = lib.nft_ctx_output_get_flags(ctx)

    def run(cmd):
        json_out = 1 << 4  # NFT_CTX_OUTPUT_JSON: also makes the buffer parse as JSON
        lib.nft_ctx_output_set_flags(ctx, plain | json_out if cmd.startswith("{") else plain)
        if lib.nft_run_cmd_from_buffer(ctx, cmd.encode()) != 0:
            raise SystemExit("nft: " + (lib.nft_ctx_get_error_buffer(ctx) or b"").decode() + " for " + cmd[:200])

    def elem_json(verb, addr, timeout=None):
        e = {"elem": {"val": addr, "timeout": timeout}} if timeout else addr
        return json.dumps({"nftables": [{verb: {"element": {"family": "inet", "table": "benchpeer",
                                                            "name": "s", "elem": [e]}}}]})

    out = {}
    for n in map(int, sizes_csv.split(",")):
        run("delete table inet benchpeer") if n != int(sizes_csv.split(",")[0]) else None
        run("add table inet benchpeer")
        run("add set inet benchpeer s { type ipv4_addr; flags timeout; }")
        chunk = []
        for i in range(n):
            chunk.append(f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255} timeout 10h")
            if len(chunk) == 5000 or i == n - 1:
                run("add element inet benchpeer s { " + ", ".join(chunk) + " }")
                chunk = []
        count = subprocess.run(["nft", "list", "set", "inet", "benchpeer", "s"], capture_output=True,
                               text=True).stdout.count("timeout 10h")
        if count != n:
            raise SystemExit(f"nft peer: set holds {count} elements, wanted {n}")
        lat = []
        for k in range(int(iters)):
            addr = f"192.0.2.{k % 250 + 1}"
            t0 = time.perf_counter()
            run(elem_json("add", addr, 600))
            t1 = time.perf_counter()
            run(elem_json("delete", addr))
            lat.append((t1 - t0) * 1e3)
        lat.sort()
        out[str(n)] = {"p50": lat[len(lat) // 2], "p99": lat[min(len(lat) - 1, int(len(lat) * 0.99))],
                       "elements": count}
    run("delete table inet benchpeer")
    print(json.dumps(out))


def parse_rfc3339(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def mode_expiry(api, token, target, n, stagger, duration, src_csv):
    target, n, stagger = hostport(target), int(n), float(stagger)
    srcs = src_csv.split(",")
    created = queue.Queue()
    errors = []

    def creator():
        a = Api(api, token)
        start = time.time()
        for i in range(n):
            delay = start + i * stagger - time.time()
            if delay > 0:
                time.sleep(delay)
            src = srcs[i % len(srcs)]
            status, lease = a.call("POST", "/api/v1/leases",
                                   {"services": ["echo"], "duration": duration,
                                    "recipient": {"kind": "cidr", "cidr": f"{src}/32"}})
            if status != 201:
                errors.append([status, lease])
                continue
            created.put((src, parse_rfc3339(lease["expires_at"]), lease["id"]))
        created.put(None)

    th = threading.Thread(target=creator, daemon=True)
    th.start()
    ep = select.epoll()
    leases = {}   # src -> state
    pending = {}  # fd -> (sock, src, t_launch)
    results = []
    done_creating = False
    probe_timeout = 0.03
    step = 0.001
    while not done_creating or leases or pending:
        while True:
            try:
                item = created.get_nowait()
            except queue.Empty:
                break
            if item is None:
                done_creating = True
                continue
            src, exp, lid = item
            if src in leases:
                raise SystemExit(f"source {src} reused while still being probed")
            leases[src] = {"exp": exp, "id": lid, "next": time.time(), "first_fail": None,
                           "last_ok": None, "ok_after_fail": 0, "end": exp + 5.0,
                           "early_fails": 0, "first_early": None}
        now = time.time()
        for src, st in list(leases.items()):
            if st["first_fail"] is not None and now > st["first_fail"] + 0.1 + probe_timeout:
                if not any(p[1] == src for p in pending.values()):
                    results.append({"id": st["id"], "late_ms": (st["first_fail"] - st["exp"]) * 1e3,
                                    "last_ok_ms": None if st["last_ok"] is None
                                    else (st["last_ok"] - st["exp"]) * 1e3,
                                    "ok_after_fail": st["ok_after_fail"],
                                    "early_fails": st["early_fails"],
                                    "first_early_ms": None if st["first_early"] is None
                                    else (st["first_early"] - st["exp"]) * 1e3})
                    del leases[src]
                    continue
            if now > st["end"]:
                results.append({"id": st["id"], "late_ms": None, "never_closed": True})
                del leases[src]
                continue
            if now >= st["next"] and (st["first_fail"] is None or now < st["first_fail"] + 0.1):
                s, err = new_probe(target, src)
                if err == errno.EINPROGRESS:
                    pending[s.fileno()] = (s, src, now)
                    ep.register(s.fileno(), select.EPOLLOUT)
                else:
                    s.close()
                # Coarse probes while the lease should be open (to catch an early
                # close), fine ones from 200 ms before the expiry.
                st["next"] = max(st["next"] + (step if now >= st["exp"] - 0.2 else 0.01), now)
        for fd, ev in ep.poll(0):
            s, src, t0 = pending.pop(fd)
            ep.unregister(fd)
            ok = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
            s.close()
            record(leases.get(src), ok, t0)
        now = time.time()
        for fd, (s, src, t0) in list(pending.items()):
            if now - t0 > probe_timeout:
                ep.unregister(fd)
                s.close()
                del pending[fd]
                record(leases.get(src), False, t0)
        time.sleep(0.0002)
    print(json.dumps({"results": results, "errors": errors}))


def record(st, ok, t_launch):
    if st is None:
        return
    if not ok and t_launch < st["exp"]:
        # A failure while the lease is still valid: the hole closed early.
        st["early_fails"] += 1
        if st["first_early"] is None or t_launch < st["first_early"]:
            st["first_early"] = t_launch
    if ok:
        if st["first_fail"] is not None and t_launch > st["first_fail"]:
            st["ok_after_fail"] += 1
            st["first_fail"] = None  # a later success: the earlier failure was noise
        if st["last_ok"] is None or t_launch > st["last_ok"]:
            st["last_ok"] = t_launch
    else:
        if st["last_ok"] is not None and t_launch < st["last_ok"]:
            return  # a failure before a success: noise (lost SYN), not the expiry
        if st["first_fail"] is None or t_launch < st["first_fail"]:
            st["first_fail"] = t_launch


def mode_create(api, token, threads, start_at, end_at, quota, base, duration):
    threads, start_at, end_at = int(threads), float(start_at), float(end_at)
    quota, base = int(quota), int(base)
    out = []

    def run(k):
        a = Api(api, token)
        lat, errs, statuses, per_s = [], 0, {}, {}
        first = base + k * (1 << 18)
        i = 0
        delay = start_at - time.time()
        if delay > 0:
            time.sleep(delay)
        while time.time() < end_at and (quota == 0 or i < quota):
            idx = first + i
            cidr = f"10.{(idx >> 16) & 255}.{(idx >> 8) & 255}.{idx & 255}/32"
            t0 = time.perf_counter()
            try:
                status, body = a.call("POST", "/api/v1/leases",
                                      {"services": ["echo"], "duration": duration,
                                       "recipient": {"kind": "cidr", "cidr": cidr}})
            except Exception as e:  # noqa: BLE001 - counted and reported
                status, body = -1, repr(e)
                a._reconnect()
            t1 = time.perf_counter()
            i += 1
            if status == 201:
                lat.append((t1 - t0) * 1e3)
                sec = str(int(time.time() - start_at))
                per_s[sec] = per_s.get(sec, 0) + 1
            else:
                errs += 1
                key = str(status)
                if key not in statuses:
                    statuses[key] = [0, str(body)[:300]]
                statuses[key][0] += 1
        out.append({"lat": lat, "errors": errs, "statuses": statuses, "reconnects": a.reconnects, "per_s": per_s,
                    "finished": time.time()})

    ts = [threading.Thread(target=run, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print(json.dumps({"threads": out}))


def mode_pingpong(target, n):
    """Round-trip times of 1-byte messages on one TCP connection (after a warm-up)."""
    n = int(n)
    s = socket.create_connection(hostport(target), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    rtts = []
    for i in range(n + 100):
        t0 = time.perf_counter()
        s.sendall(b"x")
        if s.recv(1) != b"x":
            sys.exit("echo broke")
        if i >= 100:
            rtts.append((time.perf_counter() - t0) * 1e6)
    s.close()
    print(json.dumps({"rtt_us": rtts}))


def mode_hold(target, n, seconds):
    """Opens N connections, prints {"open": N} (flushed), then holds them idle."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    socks = []
    for _ in range(int(n)):
        socks.append(socket.create_connection(hostport(target), timeout=10))
    print(json.dumps({"open": len(socks)}), flush=True)
    time.sleep(float(seconds))
    for s in socks:
        s.close()


if __name__ == "__main__":
    mode = sys.argv[1]
    fn = globals().get("mode_" + mode)
    if not fn:
        sys.exit(f"unknown mode {mode}")
    fn(*sys.argv[2:])
