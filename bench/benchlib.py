"""Shared pieces of Pinhole's benchmarks.

Reuses the end-to-end testbed (tests/e2e/testbed.py: a server namespace with
pinholed and a TCP echo service, two client namespaces) and adds what the
benchmarks need on top: seeding a policy that allows CIDR leases, running
bench/worker.py inside a client namespace, percentiles, and clean-up on
SIGTERM as well as Ctrl-C (both become exceptions so every `finally` runs).
"""

import json
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))

import testbed  # noqa: E402
from testbed import ADMIN_EMAIL, ADMIN_PASSWORD, API_PORT, CLIENTS, SERVICE_PORT  # noqa: E402,F401

WORKER = os.path.join(HERE, "worker.py")
SERVER_V4 = CLIENTS["client1"]["v4"][0]
CLIENT_V4 = CLIENTS["client1"]["v4"][1]
BENCH_USER = ("bench@example.com", "bench-password-1")


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _raise_interrupt(signum, frame):
    # Once only: `timeout` and Ctrl-C signal the whole process group, often
    # twice, and a second exception would cut the clean-up short.
    for s in _STOP_SIGNALS:
        signal.signal(s, signal.SIG_IGN)
    raise KeyboardInterrupt(f"signal {signum}")


def install_signal_handlers():
    for s in _STOP_SIGNALS:
        signal.signal(s, _raise_interrupt)


def bin_dir_from_argv(default="build/bin"):
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, default)
    d = os.path.abspath(d)
    for b in ("pinholed",):
        if not os.access(os.path.join(d, b), os.X_OK):
            sys.exit(f"{d}/{b} not found; usage: {sys.argv[0]} [BIN_DIR]")
    if os.geteuid() != 0:
        sys.exit("run as root (creates network namespaces)")
    return d


class BenchBed(testbed.Testbed):
    """The e2e testbed plus benchmark seeding; cleans up if set-up fails."""

    def __init__(self, bin_dir):
        try:
            super().__init__(bin_dir)
        except BaseException:
            self.close()
            raise
        self.admin = None
        self.token = None

    def start(self, config_extra="", sink_ports=(SERVICE_PORT,)):
        self.start_sink(*sink_ports)
        self.start_pinholed(config_text=self.default_config() + config_extra)
        self.admin = self.login(ADMIN_EMAIL, ADMIN_PASSWORD)
        self.seed()
        self.token = self.login(*BENCH_USER)

    def start_sink(self, *ports):
        """An accept-and-close listener: cheaper than the testbed's socat echo
        (which forks per connection) when probes connect a thousand times a second."""
        p = subprocess.Popen(["ip", "netns", "exec", self.server, sys.executable, WORKER, "sink",
                              *map(str, ports)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.procs.append(p)
        line = p.stdout.readline()
        if not line:
            raise RuntimeError("sink failed: " + p.stderr.read())

    def default_config(self):
        return ("[server]\n"
                f'listen = ["0.0.0.0:{API_PORT}", "[::]:{API_PORT}"]\n'
                f'public_url = "http://{SERVER_V4}:{API_PORT}"\n'
                "[store]\n"
                f'sqlite = "{self.db}"\n'
                "[nftables]\n"
                f'table = "{self.table}"\n'
                "[controller]\n"
                # pinholed's default; the e2e tests' 2 s would add a full
                # table read every 2 s to every figure.
                'resync_interval = "30s"\n')

    def seed(self):
        def ok(r):
            if r[0] not in (200, 201):
                raise RuntimeError(f"seeding failed: {r[:2]}")
        tok = self.admin
        ok(self.api("POST", "/api/v1/users",
                    {"email": BENCH_USER[0], "password": BENCH_USER[1], "role": "user"}, tok))
        ok(self.api("POST", "/api/v1/groups", {"name": "bench", "members": [BENCH_USER[0]]}, tok))
        ok(self.api("POST", "/api/v1/services",
                    {"name": "echo", "protocol": "tcp", "ports": str(SERVICE_PORT), "target": {}}, tok))
        ok(self.api("POST", "/api/v1/policies",
                    {"name": "bench-echo", "groups": ["bench"], "services": ["echo"],
                     "default_duration": "1h", "max_duration": "10h", "recipients": ["self", "cidr"],
                     "min_prefix": {"ipv4": 32, "ipv6": 128}}, tok))

    def restart_timed(self):
        """SIGTERM, start again; returns (stop seconds, start-to-ready seconds)."""
        t0 = time.time()
        self.kill_pinholed(signal.SIGTERM)
        t_stopped = time.time()
        waiter = self.worker_async("wait_ready", f"{SERVER_V4}:{API_PORT}", 600)
        time.sleep(0.2)  # the waiter is polling before pinholed starts
        config = os.path.join(self.tmp, "pinhole.toml")
        env = dict(os.environ, PINHOLE_BOOTSTRAP_ADMIN_EMAIL=ADMIN_EMAIL,
                   PINHOLE_BOOTSTRAP_ADMIN_PASSWORD=ADMIN_PASSWORD)
        t_start = time.time()
        self.pinholed = subprocess.Popen(
            ["ip", "netns", "exec", self.server, os.path.join(self.bin_dir, "pinholed"), "--config", config],
            env=env, stdout=self.pinholed_log, stderr=subprocess.STDOUT)
        out, err = waiter.communicate(timeout=620)
        if waiter.returncode != 0:
            raise RuntimeError(f"pinholed did not become ready: {err[-2000:]}\n{self.log_tail()}")
        t_ready = json.loads(out)["ready_at"]
        return t_stopped - t0, t_ready - t_start

    def pinholed_pid(self):
        # `ip netns exec` execs pinholed, so the Popen pid is pinholed's own.
        return self.pinholed.pid

    def proc_status(self, *keys):
        """Selected lines of /proc/<pinholed>/status, e.g. VmRSS, RssAnon, Threads."""
        out = {}
        with open(f"/proc/{self.pinholed_pid()}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in keys:
                    out[k] = v.strip()
        return out

    def rss_kib(self):
        with open(f"/proc/{self.pinholed_pid()}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return None

    def worker(self, mode, *args, client="client1", timeout=None):
        """Runs bench/worker.py MODE ARGS inside a client namespace; returns its JSON result."""
        p = self.worker_async(mode, *args, client=client)
        out, err = p.communicate(timeout=timeout)
        if p.returncode != 0:
            raise RuntimeError(f"worker {mode} failed ({p.returncode}):\n{err[-3000:]}")
        return json.loads(out)

    def worker_async(self, mode, *args, client="client1"):
        p = subprocess.Popen(["ip", "netns", "exec", self.ns[client], sys.executable, WORKER, mode,
                              *map(str, args)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.procs.append(p)
        return p


def pct(values, p):
    """Nearest-rank percentile of a non-empty list."""
    s = sorted(values)
    if not s:
        return float("nan")
    k = max(0, min(len(s) - 1, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


def summary_ms(values):
    return {"n": len(values), "p50": pct(values, 50), "p99": pct(values, 99),
            "min": min(values) if values else float("nan"), "max": max(values) if values else float("nan")}


def fmt_ms(x):
    return f"{x:8.2f} ms"


def verdict(ok):
    return "MET" if ok else "MISSED"


def machine_note():
    load = open("/proc/loadavg").read().split()[:3]
    return f"host: {os.cpu_count()} vCPU, loadavg {' '.join(load)}, kernel {os.uname().release}"


def write_json_result(name, data):
    """Writes the figures to $BENCH_RESULTS_DIR/<name>.json when run-all asks for it."""
    d = os.environ.get("BENCH_RESULTS_DIR")
    if d:
        with open(os.path.join(d, f"{name}.json"), "w") as f:
            json.dump(data, f, indent=1)


def now_str():
    return time.strftime("%Y-%m-%d %H:%M:%S")
