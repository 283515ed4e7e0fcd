#!/usr/bin/env python3
"""Benchmark: opening many aws-sg leases under EC2's API throttling.

pinholed talks to moto_server through tests/e2e/fault_proxy.py, which
enforces EC2's mutating-call token bucket (50 tokens, 5 per second) and
answers RequestLimitExceeded (503) when it is empty. The same run measures:

  batched   - Pinhole as shipped: pending adds coalesced per security group
              (many IpPermissions per AuthorizeSecurityGroupIngress)
  per-lease - one AuthorizeSecurityGroupIngress per lease, the approach of the
              Lambda-style tools (riboseinc/terraform-aws-lambda-ip-whitelist
              and similar); same pinholed, [aws] max_rules_per_call = 1, same
              client-side token bucket and back-off

For each: N leases (default 1,000, /32 CIDR leases from 100 concurrent
clients) and the time until every rule exists in moto (read directly, not
through the proxy), plus API reply latency, EC2 calls made and throttled.
Prints the ratio; the target is >= 10x.

Usage: sudo bench/aws.py [BIN_DIR] [--leases N] [--concurrency C]
(runs in a network namespace of its own; needs root and moto_server)
"""

import argparse
import concurrent.futures
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))
sys.path.insert(0, HERE)
from fault_proxy import FaultProxy  # noqa: E402

REGION = "us-east-1"
ADMIN = ("admin@example.com", "admin-password-for-bench")
KEYS = ("AKIABENCHBENCHBENCH0", "bench-secret-key-not-checked-by-moto-0000")
QUOTA = 60


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values, p):
    v = sorted(values)
    if not v:
        return float("nan")
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


class Bench:
    def __init__(self, bin_dir, leases, concurrency):
        self.bin_dir = bin_dir
        self.n = leases
        self.concurrency = concurrency
        self.tmp = tempfile.mkdtemp(prefix="pinhole-bench-aws-")
        self.procs = []
        self.pinholed = None

    def close(self):
        self.stop_pinholed()
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start_moto(self):
        exe = shutil.which("moto_server") or "/root/.pyenv/shims/moto_server"
        port = free_port()
        log = open(os.path.join(self.tmp, "moto.log"), "w")
        self.procs.append(subprocess.Popen([exe, "-H", "127.0.0.1", "-p", str(port)],
                                           stdout=log, stderr=subprocess.STDOUT))
        self.moto_url = f"http://127.0.0.1:{port}"
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                urllib.request.urlopen(self.moto_url + "/moto-api/", timeout=2).read()
                break
            except OSError:
                time.sleep(0.2)
        import botocore.session
        self.ec2 = botocore.session.get_session().create_client(
            "ec2", region_name=REGION, endpoint_url=self.moto_url,
            aws_access_key_id=KEYS[0], aws_secret_access_key=KEYS[1])
        self.vpc = self.ec2.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]

    def groups(self, prefix, count):
        return [self.ec2.create_security_group(GroupName=f"{prefix}-{i}", Description="bench",
                                               VpcId=self.vpc)["GroupId"] for i in range(count)]

    def rules_in(self, groups):
        n = 0
        for g in groups:
            paginator = self.ec2.get_paginator("describe_security_group_rules")
            for page in paginator.paginate(Filters=[{"Name": "group-id", "Values": [g]}]):
                n += sum(1 for r in page["SecurityGroupRules"] if not r.get("IsEgress"))
        return n

    def start_pinholed(self, endpoint, max_rules_per_call):
        self.stop_pinholed()
        self.api_port = free_port()
        cfg = os.path.join(self.tmp, "pinhole.toml")
        db = os.path.join(self.tmp, f"pinhole-{max_rules_per_call}.db")
        with open(cfg, "w") as f:
            # Each lease request holds a request thread while its rule is
            # applied; enough threads let every client wait at once (the
            # default is 16).
            threads = self.concurrency + 16
            f.write(f'[server]\nlisten = ["127.0.0.1:{self.api_port}"]\nthreads = {threads}\n'
                    f'[store]\nsqlite = "{db}"\n[nftables]\ntable = "phawsbench"\n'
                    f'[aws]\nendpoint = "{endpoint}"\nmax_rules_per_call = {max_rules_per_call}\n'
                    'reconcile_interval = "10s"\n')
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(AWS_ACCESS_KEY_ID=KEYS[0], AWS_SECRET_ACCESS_KEY=KEYS[1], HOME=self.tmp,
                   AWS_CONFIG_FILE="/nonexistent", AWS_SHARED_CREDENTIALS_FILE="/nonexistent",
                   PINHOLE_BOOTSTRAP_ADMIN_EMAIL=ADMIN[0], PINHOLE_BOOTSTRAP_ADMIN_PASSWORD=ADMIN[1])
        log = open(os.path.join(self.tmp, f"pinholed-{max_rules_per_call}.log"), "w")
        self.pinholed = subprocess.Popen([os.path.join(self.bin_dir, "pinholed"), "--config", cfg],
                                         env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.http("GET", "/readyz")[0] == 200:
                break
            time.sleep(0.1)
        self.token = self.http("POST", "/api/v1/session", {"email": ADMIN[0], "password": ADMIN[1]})[1]["token"]

    def stop_pinholed(self):
        if self.pinholed and self.pinholed.poll() is None:
            self.pinholed.send_signal(signal.SIGTERM)
            self.pinholed.wait(timeout=30)
        self.pinholed = None

    def http(self, method, path, body=None):
        req = urllib.request.Request(f"http://127.0.0.1:{self.api_port}{path}", method=method,
                                     data=json.dumps(body).encode() if body is not None else None)
        req.add_header("Content-Type", "application/json")
        if getattr(self, "token", None) and path != "/api/v1/session":
            req.add_header("Authorization", "Bearer " + self.token)
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()
        except OSError as e:
            return 0, str(e)

    def run_mode(self, name, max_rules_per_call):
        # EC2 allows 16 groups per network interface, so a pool holds at most
        # 16; 1,000 rules at 60 per group need two services of 9 groups.
        pools = 2
        per_pool = (self.n // pools + QUOTA - 1) // QUOTA + 1
        groups = self.groups(name, per_pool * pools)
        services = [f"ssh{p}" for p in range(pools)]
        proxy = FaultProxy(self.moto_url, bucket=50, refill=5, describe_bucket=100,
                           describe_refill=20).start()
        try:
            self.start_pinholed(proxy.url, max_rules_per_call)
            self.token = None
            self.token = self.http("POST", "/api/v1/session",
                                   {"email": ADMIN[0], "password": ADMIN[1]})[1]["token"]
            seed = [("/api/v1/services", {
                "name": svc, "backend": "aws-sg", "protocol": "tcp", "ports": "22",
                "target": {"region": REGION,
                           "security_groups": groups[p * per_pool:(p + 1) * per_pool]}})
                    for p, svc in enumerate(services)]
            seed.append(("/api/v1/policies", {
                "name": "bench", "users": [ADMIN[0]], "services": services,
                "default_duration": "2h", "max_duration": "10h", "recipients": ["cidr"],
                "min_prefix": {"ipv4": 24}}))
            for path, body in seed:
                status, reply = self.http("POST", path, body)
                assert status == 201, (path, status, reply)
            proxy.reset_stats()
            latencies = []
            statuses = {}

            def one(i):
                cidr = f"10.{100 + i // 250}.{i % 250}.1/32"
                t = time.time()
                status, reply = self.http("POST", "/api/v1/leases", {
                    "services": [services[i % pools]], "recipient": {"kind": "cidr", "cidr": cidr}})
                latencies.append(time.time() - t)
                rule = reply["rules"][0]["status"] if status == 201 else f"http {status}"
                statuses[rule] = statuses.get(rule, 0) + 1

            start = time.time()
            with concurrent.futures.ThreadPoolExecutor(self.concurrency) as pool:
                list(pool.map(one, range(self.n)))
            replied = time.time() - start
            present = 0
            deadline = start + 1800
            while time.time() < deadline:
                present = self.rules_in(groups)
                if present >= self.n:
                    break
                time.sleep(0.5)
            converged = time.time() - start
            stats = proxy.snapshot()
            calls = sum(v["calls"] for k, v in stats["actions"].items()
                        if k.startswith("AuthorizeSecurityGroupIngress"))
            result = {
                "mode": name, "leases": self.n, "rules_present": present,
                "converged_s": round(converged, 2), "all_replied_s": round(replied, 2),
                "reply_p50_ms": round(pct(latencies, 50) * 1000), "reply_p99_ms": round(pct(latencies, 99) * 1000),
                "rule_status_at_reply": statuses, "authorize_calls": calls,
                "throttled_503": stats["throttled"], "ec2_requests": stats["requests"],
            }
            print(json.dumps(result), flush=True)
            return result
        finally:
            self.stop_pinholed()
            proxy.stop()


def in_own_namespace():
    ns = f"ph-awsb-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        subprocess.run(["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"], check=True)
        env = dict(os.environ, PINHOLE_AWS_BENCH_NETNS=ns)
        return subprocess.call(["ip", "netns", "exec", ns, sys.executable, os.path.abspath(__file__),
                                *sys.argv[1:]], env=env)
    finally:
        out = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True)
        for pid in out.stdout.split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        subprocess.run(["ip", "netns", "del", ns], check=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bin_dir", nargs="?", default=os.path.join(REPO, "build", "bin"))
    ap.add_argument("--leases", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=100)
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root (creates a network namespace)")
    if not (shutil.which("moto_server") or os.path.exists("/root/.pyenv/shims/moto_server")):
        sys.exit("moto_server is not installed")
    if not os.environ.get("PINHOLE_AWS_BENCH_NETNS"):
        # SIGTERM/SIGHUP unwind like Ctrl-C, so the namespace is always deleted.
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, lambda *a: (_ for _ in ()).throw(KeyboardInterrupt()))
        return in_own_namespace()
    signal.signal(signal.SIGTERM, lambda *a: (_ for _ in ()).throw(KeyboardInterrupt()))
    bench = Bench(os.path.abspath(a.bin_dir), a.leases, a.concurrency)
    try:
        bench.start_moto()
        print(f"aws-sg: {a.leases} leases, {a.concurrency} concurrent clients, EC2 bucket 50 / 5 per s "
              f"(fault proxy), moto {moto_version()}", flush=True)
        batched = bench.run_mode("batched", 100)
        naive = bench.run_mode("per-lease", 1)
    finally:
        bench.close()
    ratio = naive["converged_s"] / max(batched["converged_s"], 1e-3)
    print()
    print(f"  {'mode':<10} {'converged':>10} {'replies':>9} {'p50':>7} {'p99':>7} {'Authorize':>9} {'503s':>6}")
    for r in (batched, naive):
        print(f"  {r['mode']:<10} {r['converged_s']:>9.1f}s {r['all_replied_s']:>8.1f}s "
              f"{r['reply_p50_ms']:>5}ms {r['reply_p99_ms']:>5}ms {r['authorize_calls']:>9} {r['throttled_503']:>6}")
    print(f"  batching is {ratio:.1f}x faster to converge (target >= 10x): "
          f"{'PASS' if ratio >= 10 else 'FAIL'}")
    out = os.environ.get("BENCH_RESULTS_DIR")
    if out:
        with open(os.path.join(out, "aws.json"), "w") as f:
            json.dump({"batched": batched, "per_lease": naive, "ratio": ratio}, f, indent=2)
    return 0 if ratio >= 10 and batched["rules_present"] >= a.leases and naive["rules_present"] >= a.leases else 1


def moto_version():
    try:
        import moto
        return moto.__version__
    except ImportError:
        return "?"


if __name__ == "__main__":
    sys.exit(main())
