#!/usr/bin/env python3
"""End-to-end: pinholed's aws-sg backend against moto_server with IAM checks on.

Usage: test_aws.py BIN_DIR   (needs root: it runs everything in a network
namespace of its own, so that pinholed's nftables backend and every socket
stay out of the host; the namespace is deleted at the end)

moto_server starts with INITIAL_NO_AUTH_ACTION_COUNT: the setup calls (VPC,
groups, IAM users with exactly `pinhole admin aws-iam-policy`'s policy, a role,
access keys) run unauthenticated, then every request is signature-checked and
IAM-checked. pinholed talks to moto directly or through tests/e2e/
fault_proxy.py (throttling, 500s, stalls, outages). Rules are checked with the
real `aws ec2 describe-security-group-rules --endpoint-url ...`.
"""

import calendar
import concurrent.futures
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from fault_proxy import FaultProxy  # noqa: E402

BIN_DIR = None
REGION = "us-east-1"
ADMIN = ("admin@example.com", "admin-password-for-tests")
ALICE = ("alice@example.com", "alice-password-1")
ROOT_KEYS = ("AKIAROOTROOTROOTROOT", "root-secret-for-setup-calls-only-000000")
SETUP_CALLS = 200  # more than the setup needs; auth is switched on explicitly after it


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_time(text):
    """RFC 3339 UTC as pinholed writes it (milliseconds optional) -> epoch seconds."""
    base, _, frac = text.rstrip("Z").partition(".")
    return calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S")) + (float("0." + frac) if frac else 0.0)


def wait_for(cond, timeout, what, interval=0.1):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = cond()
            if last:
                return last
        except Exception as e:  # noqa: BLE001 - report the last failure below
            last = e
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


class ImdsServer:
    """IMDSv2 as the test serves it: PUT token, then role name, then credentials."""

    def __init__(self, keys):
        self.keys = keys
        self.token = "imds-token-" + os.urandom(6).hex()
        self.seen = []
        srv = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _send(self, code, body):
                data = body.encode()
                self.send_response(code)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_PUT(self):
                srv.seen.append(("PUT", self.path, self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")))
                if self.path != "/latest/api/token" or not self.headers.get(
                        "X-aws-ec2-metadata-token-ttl-seconds"):
                    return self._send(400, "")
                self._send(200, srv.token)

            def do_GET(self):
                srv.seen.append(("GET", self.path, self.headers.get("X-aws-ec2-metadata-token")))
                if self.headers.get("X-aws-ec2-metadata-token") != srv.token:
                    return self._send(401, "")
                base = "/latest/meta-data/iam/security-credentials/"
                if self.path == base:
                    return self._send(200, "pinhole-role")
                if self.path == base + "pinhole-role":
                    exp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
                    return self._send(200, json.dumps({
                        "Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": srv.keys[0],
                        "SecretAccessKey": srv.keys[1], "Token": "", "Expiration": exp}))
                self._send(404, "")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class AwsEndToEnd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="pinhole-aws-e2e-")
        cls.procs = []
        cls.pinholed = None
        cls.proxy = None
        cls.imds = None
        try:
            cls._start_moto()
            cls._setup_account()
            cls.proxy = FaultProxy(cls.moto_url).start()
            cls.api_port = free_port()
            cls.start_pinholed()
            cls._seed_pinhole()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.stop_pinholed()
        if cls.proxy:
            cls.proxy.stop()
        if cls.imds:
            cls.imds.stop()
        for p in cls.procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    p.kill()
        if os.environ.get("PINHOLE_E2E_KEEP"):
            print("kept", cls.tmp)
        else:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    # --- moto and the account ------------------------------------------
    @classmethod
    def _start_moto(cls):
        exe = shutil.which("moto_server") or "/root/.pyenv/shims/moto_server"
        port = free_port()
        env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT=str(SETUP_CALLS))
        log = open(os.path.join(cls.tmp, "moto.log"), "w")
        cls.procs.append(subprocess.Popen([exe, "-H", "127.0.0.1", "-p", str(port)], env=env,
                                          stdout=log, stderr=subprocess.STDOUT))
        cls.moto_url = f"http://127.0.0.1:{port}"
        wait_for(lambda: urllib.request.urlopen(cls.moto_url + "/moto-api/", timeout=2).status == 200,
                 30, "moto_server")

    @classmethod
    def client(cls, service, keys, token=None):
        import botocore.session
        s = botocore.session.get_session()
        return s.create_client(service, region_name=REGION, endpoint_url=cls.moto_url,
                               aws_access_key_id=keys[0], aws_secret_access_key=keys[1],
                               aws_session_token=token)

    @classmethod
    def policy_text(cls, drop=None):
        out = subprocess.run([os.path.join(BIN_DIR, "pinhole"), "admin", "aws-iam-policy"],
                             capture_output=True, text=True, check=True).stdout
        doc = json.loads(out)
        if drop:
            for st in doc["Statement"]:
                st["Action"] = [a for a in st["Action"] if a != drop]
        return json.dumps(doc)

    @classmethod
    def _user(cls, iam, name, policy):
        iam.create_user(UserName=name)
        arn = iam.create_policy(PolicyName=name + "-policy", PolicyDocument=policy)["Policy"]["Arn"]
        iam.attach_user_policy(UserName=name, PolicyArn=arn)
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return (key["AccessKeyId"], key["SecretAccessKey"]), arn

    @classmethod
    def _setup_account(cls):
        ec2 = cls.client("ec2", ROOT_KEYS)
        iam = cls.client("iam", ROOT_KEYS)
        vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
        cls.sg = {}
        for name in ("a", "b", "c", "d"):
            cls.sg[name] = ec2.create_security_group(GroupName="pinhole-" + name, Description="t",
                                                     VpcId=vpc)["GroupId"]
        # An admin's static allow-list beside Pinhole's rules.
        ec2.authorize_security_group_ingress(GroupId=cls.sg["a"], IpPermissions=[{
            "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
            "IpRanges": [{"CidrIp": "192.0.2.0/24", "Description": "office"}]}])
        cls.keys, policy_arn = cls._user(iam, "pinhole", cls.policy_text())
        cls.limited_keys, _ = cls._user(iam, "pinhole-limited",
                                        cls.policy_text(drop="ec2:AuthorizeSecurityGroupIngress"))
        # AssumeRole: a role with the policy, and a source user who may only assume it.
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
                                                          "Action": "sts:AssumeRole"}]}
        role = iam.create_role(RoleName="pinhole-role", AssumeRolePolicyDocument=json.dumps(trust))
        cls.role_arn = role["Role"]["Arn"]
        iam.attach_role_policy(RoleName="pinhole-role", PolicyArn=policy_arn)
        assume = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                           "Resource": cls.role_arn}]}
        cls.source_keys, _ = cls._user(iam, "pinhole-source", json.dumps(assume))
        # From here on every request is signature- and IAM-checked.
        req = urllib.request.Request(cls.moto_url + "/moto-api/reset-auth", data=b"0", method="POST",
                                     headers={"Content-Type": "text/plain"})
        urllib.request.urlopen(req, timeout=5).read()
        bad = cls.client("ec2", ("AKIANOBODYNOBODYNOBO", "wrong-secret"))
        try:
            bad.describe_security_groups()
            raise AssertionError("moto accepted an unknown access key: IAM checks are off")
        except bad.exceptions.ClientError:
            pass

    # --- pinholed -------------------------------------------------------
    @classmethod
    def start_pinholed(cls, keys=None, endpoint=None, extra_aws="", env=None, profile_files=None,
                       wait_ready=True):
        keys = cls.keys if keys is None else keys
        endpoint = endpoint or cls.proxy.url
        cls.stop_pinholed()
        cfg = os.path.join(cls.tmp, "pinhole.toml")
        with open(cfg, "w") as f:
            f.write(
                "[server]\n"
                f'listen = ["127.0.0.1:{cls.api_port}"]\n'
                f'public_url = "http://127.0.0.1:{cls.api_port}"\n'
                "[store]\n"
                f'sqlite = "{os.path.join(cls.tmp, "pinhole.db")}"\n'
                "[nftables]\n"
                'table = "phawse2e"\n'
                "[controller]\n"
                'resync_interval = "30s"\n'
                "[aws]\n"
                f'endpoint = "{endpoint}"\n'
                f'sts_endpoint = "{cls.moto_url}"\n'
                f'imds_endpoint = "{cls.imds.url if cls.imds else "http://127.0.0.1:9"}"\n'
                'reconcile_interval = "3s"\n'
                'degraded_after = "4s"\n'
                'apply_budget = "3s"\n'
                'call_timeout = "2s"\n' + extra_aws)
        home = os.path.join(cls.tmp, "home")
        os.makedirs(home, exist_ok=True)
        e = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        e.update(HOME=home, PINHOLE_BOOTSTRAP_ADMIN_EMAIL=ADMIN[0],
                 PINHOLE_BOOTSTRAP_ADMIN_PASSWORD=ADMIN[1],
                 AWS_SHARED_CREDENTIALS_FILE=os.path.join(cls.tmp, "none-credentials"),
                 AWS_CONFIG_FILE=os.path.join(cls.tmp, "none-config"))
        if keys:
            e.update(AWS_ACCESS_KEY_ID=keys[0], AWS_SECRET_ACCESS_KEY=keys[1])
        e.update(env or {})
        cls.log = open(os.path.join(cls.tmp, "pinholed.log"), "a")
        cls.pinholed = subprocess.Popen([os.path.join(BIN_DIR, "pinholed"), "--config", cfg], env=e,
                                        stdout=cls.log, stderr=subprocess.STDOUT)
        wait_for(lambda: cls.http("GET", "/healthz")[0] == 200, 20, "pinholed to start")
        if wait_ready:
            wait_for(lambda: cls.http("GET", "/readyz")[0] == 200, 20, "pinholed to be ready")
        cls.admin_token = cls.login(ADMIN)

    @classmethod
    def stop_pinholed(cls, sig=signal.SIGTERM):
        p = getattr(cls, "pinholed", None)
        if p and p.poll() is None:
            p.send_signal(sig)
            p.wait(timeout=15)
        cls.pinholed = None

    @classmethod
    def http(cls, method, path, body=None, token=None):
        req = urllib.request.Request(f"http://127.0.0.1:{cls.api_port}{path}", method=method,
                                     data=json.dumps(body).encode() if body is not None else None)
        req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                data = r.read()
                status = r.status
        except urllib.error.HTTPError as e:
            data, status = e.read(), e.code
        try:
            return status, json.loads(data) if data else None
        except ValueError:
            return status, data.decode()

    @classmethod
    def login(cls, who):
        status, body = cls.http("POST", "/api/v1/session", {"email": who[0], "password": who[1]})
        assert status == 200, (status, body)
        return body["token"]

    @classmethod
    def _seed_pinhole(cls):
        tok = cls.admin_token

        def ok(r):
            assert r[0] in (200, 201), r
            return r[1]
        ok(cls.http("POST", "/api/v1/users", {"email": ALICE[0], "password": ALICE[1], "role": "user"}, tok))
        ok(cls.http("POST", "/api/v1/groups", {"name": "ops", "members": [ALICE[0]]}, tok))
        ok(cls.http("POST", "/api/v1/services", {
            "name": "ssh", "backend": "aws-sg", "protocol": "tcp", "ports": "22",
            "target": {"region": REGION, "security_groups": [cls.sg["a"], cls.sg["b"]]}}, tok))
        ok(cls.http("POST", "/api/v1/services", {
            "name": "db", "backend": "aws-sg", "protocol": "tcp", "ports": "5432",
            "target": {"region": REGION, "security_groups": [cls.sg["c"], cls.sg["d"]]}}, tok))
        ok(cls.http("POST", "/api/v1/policies", {
            "name": "ops", "groups": ["ops"], "services": ["ssh", "db"], "default_duration": "1h",
            "max_duration": "10h", "recipients": ["self", "cidr"],
            "min_prefix": {"ipv4": 24, "ipv6": 64}}, tok))
        cls.alice = cls.login(ALICE)

    # --- helpers ----------------------------------------------------------
    def open_lease(self, cidr, duration="1h", services=("ssh",), expect=201):
        status, body = self.http("POST", "/api/v1/leases", {
            "services": list(services), "duration": duration,
            "recipient": {"kind": "cidr", "cidr": cidr}}, self.alice)
        self.assertEqual(status, expect, body)
        return body

    def close_lease(self, lease_id):
        status, body = self.http("DELETE", f"/api/v1/leases/{lease_id}", token=self.alice)
        self.assertEqual(status, 200, body)
        return body

    def aws_rules(self, group):
        """Inbound rules of `group`, read with the real aws CLI (as an operator would)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(AWS_ACCESS_KEY_ID=self.keys[0], AWS_SECRET_ACCESS_KEY=self.keys[1],
                   AWS_DEFAULT_REGION=REGION, HOME=self.tmp,
                   AWS_CONFIG_FILE=os.path.join(self.tmp, "none-config"),
                   AWS_SHARED_CREDENTIALS_FILE=os.path.join(self.tmp, "none-credentials"))
        aws = shutil.which("aws") or "/root/.pyenv/shims/aws"
        out = subprocess.run([aws, "ec2", "describe-security-group-rules", "--endpoint-url", self.moto_url,
                              "--filters", f"Name=group-id,Values={group}", "--output", "json"],
                             capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        return [r for r in json.loads(out.stdout)["SecurityGroupRules"] if not r.get("IsEgress")]

    def pinhole_cidrs(self, group):
        rules = self.aws_rules(group)
        return sorted(r.get("CidrIpv4") or r.get("CidrIpv6") for r in rules
                      if any(t["Key"] == "pinhole:owner" for t in r.get("Tags", [])))

    def all_pinhole_cidrs(self):
        return {name: self.pinhole_cidrs(g) for name, g in self.sg.items()}

    def fast_rules(self, group):
        """Same via botocore (no CLI start-up), for polling."""
        ec2 = self.client("ec2", self.keys)
        rules = ec2.describe_security_group_rules(
            Filters=[{"Name": "group-id", "Values": [group]}])["SecurityGroupRules"]
        return [r for r in rules if not r.get("IsEgress")]

    def fast_pinhole_cidrs(self, groups=None):
        out = []
        for g in groups or self.sg.values():
            out += [r.get("CidrIpv4") or r.get("CidrIpv6") for r in self.fast_rules(g)
                    if any(t["Key"] == "pinhole:owner" for t in r.get("Tags", []))]
        return sorted(out)

    def assert_hand_made_intact(self):
        office = [r for r in self.fast_rules(self.sg["a"]) if r.get("CidrIpv4") == "192.0.2.0/24"]
        self.assertEqual(len(office), 1)
        self.assertEqual(office[0].get("Description"), "office")
        self.assertFalse(any(t["Key"].startswith("pinhole:") for t in office[0].get("Tags", [])))

    def end_all_leases(self):
        status, body = self.http("GET", "/api/v1/leases?state=active", token=self.admin_token)
        for lease in body["items"]:
            self.http("DELETE", f"/api/v1/leases/{lease['id']}", token=self.admin_token)

    def tearDown(self):
        if self.pinholed is None or self.pinholed.poll() is not None:
            return
        self.proxy.configure(outage=False, error_rate=0.0, stall_rate=0.0, bucket=None)
        self.end_all_leases()
        wait_for(lambda: self.fast_pinhole_cidrs() == [], 30, "no Pinhole rule left")
        self.assert_hand_made_intact()

    # --- the tests, in order ------------------------------------------------
    def test_01_lease_opens_and_closes_a_rule(self):
        lease = self.open_lease("198.51.100.7/32")
        self.assertEqual(lease["state"], "active")
        self.assertEqual([r["status"] for r in lease["rules"]], ["applied"], lease)
        rules = [r for r in self.aws_rules(self.sg["a"]) if r.get("CidrIpv4") == "198.51.100.7/32"]
        self.assertEqual(len(rules), 1, rules)
        rule = rules[0]
        self.assertEqual((rule["IpProtocol"], rule["FromPort"], rule["ToPort"]), ("tcp", 22, 22))
        tags = {t["Key"]: t["Value"] for t in rule.get("Tags", [])}
        self.assertEqual(tags["pinhole:owner"], "pinhole")
        self.assertEqual(tags["pinhole:lease"], str(lease["id"]))
        self.assertEqual(tags["pinhole:expires"], lease["expires_at"])
        self.assertEqual(rule["Description"],
                         f"pinhole svc ssh lease {lease['id']} until {lease['expires_at']}")
        self.assertEqual(self.pinhole_cidrs(self.sg["b"]), [])  # one rule per pool, not per group
        self.close_lease(lease["id"])
        self.assertEqual(self.pinhole_cidrs(self.sg["a"]), [])  # gone before the reply
        self.assert_hand_made_intact()

    def test_02_expiry_closes_the_rule_and_renew_refreshes_it(self):
        short = self.open_lease("198.51.100.8/32", duration="4s")
        renewed = self.open_lease("2001:db8::8/128", duration="4s")
        self.assertEqual(self.fast_pinhole_cidrs([self.sg["a"]]), ["198.51.100.8/32", "2001:db8::8/128"])
        rule_id = [r for r in self.fast_rules(self.sg["a"]) if r.get("CidrIpv6")][0]["SecurityGroupRuleId"]
        status, body = self.http("POST", f"/api/v1/leases/{renewed['id']}/renew", {"duration": "1h"},
                                 self.alice)
        self.assertEqual(status, 200, body)
        v6 = [r for r in self.fast_rules(self.sg["a"]) if r.get("CidrIpv6")]
        self.assertEqual(v6[0]["SecurityGroupRuleId"], rule_id)  # refreshed in place, no gap
        self.assertIn(body["expires_at"], v6[0]["Description"])
        t = wait_for(lambda: self.fast_pinhole_cidrs([self.sg["a"]]) == ["2001:db8::8/128"] and time.time(),
                     15, "the expired lease's rule to go")
        expired_at = parse_time(short["expires_at"])
        self.assertLess(t - expired_at, 5.0)  # closed by the expiry timer, not a later resync
        self.assertEqual(self.pinhole_cidrs(self.sg["a"]), ["2001:db8::8/128"])

    def test_03_shared_rule_lives_until_the_last_lease(self):
        first = self.open_lease("203.0.113.0/24", duration="1h")
        second = self.open_lease("203.0.113.0/24", duration="2h")
        self.assertEqual(self.fast_pinhole_cidrs(), ["203.0.113.0/24"])
        self.close_lease(second["id"])
        self.assertEqual(self.fast_pinhole_cidrs(), ["203.0.113.0/24"])
        self.close_lease(first["id"])
        self.assertEqual(self.fast_pinhole_cidrs(), [])

    def test_04_quota_spills_then_refuses_whole(self):
        # Fill group c to EC2's limit and group d to one below, by hand.
        ec2 = self.client("ec2", self.keys)
        for group, n in ((self.sg["c"], 60), (self.sg["d"], 59)):
            ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[{
                "IpProtocol": "tcp", "FromPort": 8443, "ToPort": 8443,
                "IpRanges": [{"CidrIp": f"10.{i}.0.0/16"} for i in range(n)]}])
        try:
            time.sleep(3.5)  # one reconcile period: pinholed learns the counts
            lease = self.open_lease("198.51.100.20/32", services=("db",))
            self.assertEqual([r["status"] for r in lease["rules"]], ["applied"], lease)
            self.assertEqual(self.pinhole_cidrs(self.sg["c"]), [])
            self.assertEqual(self.pinhole_cidrs(self.sg["d"]), ["198.51.100.20/32"])
            before = self.http("GET", "/api/v1/leases?state=active", token=self.admin_token)[1]["items"]
            status, body = self.http("POST", "/api/v1/leases", {
                "services": ["ssh", "db"], "recipient": {"kind": "cidr", "cidr": "198.51.100.21/32"}},
                self.alice)
            self.assertEqual(status, 409, body)
            self.assertEqual(body["error"]["code"], "capacity_exhausted")
            self.assertIn(self.sg["c"], body["error"]["message"])
            self.assertIn(self.sg["d"], body["error"]["message"])
            after = self.http("GET", "/api/v1/leases?state=active", token=self.admin_token)[1]["items"]
            self.assertEqual(len(after), len(before))  # nothing committed
            self.assertNotIn("198.51.100.21/32", self.fast_pinhole_cidrs())  # nor half applied (ssh)
        finally:
            self.end_all_leases()
            for group in (self.sg["c"], self.sg["d"]):
                ids = [r["SecurityGroupRuleId"] for r in self.fast_rules(group)
                       if r.get("FromPort") == 8443]
                ec2.revoke_security_group_ingress(GroupId=group, SecurityGroupRuleIds=ids)

    def test_05_throttling_errors_and_stalls_converge_without_leaks(self):
        self.proxy.configure(bucket=8, refill=2, error_rate=0.15, stall_rate=0.05, stall_seconds=3)
        self.proxy.reset_stats()
        cidrs = [f"198.51.100.{i}/32" for i in range(100, 130)]
        durations = ["1h" if i % 3 else "6s" for i in range(len(cidrs))]
        with concurrent.futures.ThreadPoolExecutor(10) as pool:
            leases = list(pool.map(lambda a: self.open_lease(a[0], duration=a[1]), zip(cidrs, durations)))
        long_lived = sorted(c for c, d in zip(cidrs, durations) if d == "1h")
        wait_for(lambda: self.fast_pinhole_cidrs() == long_lived, 60,
                 "long leases present and short ones gone", interval=0.5)
        stats = self.proxy.snapshot()
        self.assertGreater(stats["throttled"] + stats["errors"] + stats["stalls"], 0, stats)
        # Every lease reports its rule applied once converged.
        for lease in leases:
            if lease["expires_at"] and lease["id"]:
                body = self.http("GET", f"/api/v1/leases/{lease['id']}", token=self.alice)[1]
                if body["state"] == "active":
                    wait_for(lambda: self.http("GET", f"/api/v1/leases/{lease['id']}", token=self.alice)
                             [1]["rules"][0]["status"] == "applied", 20, "status applied")
        # An outage: rules cannot be revoked while EC2 is away; a lease shows pending.
        self.proxy.configure(outage=True)
        pending = self.open_lease("198.51.100.200/32", duration="5s")
        self.assertEqual(pending["rules"][0]["status"], "pending", pending)
        self.assertIn("unavailable", pending["rules"][0].get("error", "").lower())
        time.sleep(6)
        status, ready = self.http("GET", "/readyz")
        self.assertEqual(status, 503, ready)
        self.assertIn("aws-sg", ready["degraded"])
        metrics = self.http("GET", "/metrics")[1]
        self.assertIn('pinhole_enforcer_degraded{backend="aws-sg"} 1', metrics)
        self.proxy.configure(outage=False)
        wait_for(lambda: self.http("GET", "/readyz")[0] == 200, 15, "ready again")
        # The 5 s lease ended during the outage and never got its rule; nothing of it may appear.
        self.assertNotIn("198.51.100.200/32", self.fast_pinhole_cidrs())
        # Ending everything (still throttled, with 500s and stalls) leaves nothing behind.
        self.end_all_leases()
        wait_for(lambda: self.fast_pinhole_cidrs() == [], 30, "all rules revoked")

    def test_06_rule_of_a_lease_ending_during_an_outage_goes_within_a_reconcile_period(self):
        self.open_lease("198.51.100.31/32", duration="5s")
        self.assertEqual(self.fast_pinhole_cidrs(), ["198.51.100.31/32"])
        self.proxy.configure(outage=True)
        time.sleep(7)  # the lease expires while calls fail
        self.assertEqual(self.fast_pinhole_cidrs(), ["198.51.100.31/32"])
        self.proxy.configure(outage=False)
        back = time.time()
        wait_for(lambda: self.fast_pinhole_cidrs() == [], 15, "expired rule revoked", interval=0.2)
        # Failed removals are retried every 2 s (shorter than the 3 s reconcile
        # period); the slack covers polling moto on a busy machine (measured
        # 1-3 s when idle, up to 7 s with parallel compiles).
        self.assertLess(time.time() - back, 3.0 + 2.0 + 4.0)

    def test_07_kill9_expire_while_down_restart(self):
        keep = self.open_lease("198.51.100.40/32", duration="1h")
        gone = self.open_lease("198.51.100.41/32", duration="10s")
        self.assertEqual(gone["rules"][0]["status"], "applied", gone)
        self.assertEqual(self.fast_pinhole_cidrs(), ["198.51.100.40/32", "198.51.100.41/32"])
        self.stop_pinholed(signal.SIGKILL)
        # The short lease ends while pinholed is dead.
        time.sleep(max(0.0, parse_time(gone["expires_at"]) - time.time()) + 1.0)
        self.assertEqual(self.fast_pinhole_cidrs(), ["198.51.100.40/32", "198.51.100.41/32"])
        self.start_pinholed()
        self.assertEqual(self.pinhole_cidrs(self.sg["a"]), ["198.51.100.40/32"])
        self.assertEqual(self.http("GET", f"/api/v1/leases/{gone['id']}", token=self.admin_token)[1]["state"],
                         "expired")
        self.assertEqual(self.http("GET", f"/api/v1/leases/{keep['id']}", token=self.admin_token)[1]["state"],
                         "active")
        # A rule of ours that the store never heard of (another replica's, say) and that has
        # expired is revoked too.
        ec2 = self.client("ec2", self.keys)
        ec2.authorize_security_group_ingress(
            GroupId=self.sg["b"],
            IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{
                "CidrIp": "198.51.100.42/32",
                "Description": "pinhole svc ssh lease 999 until 2020-01-01T00:00:00Z"}]}],
            TagSpecifications=[{"ResourceType": "security-group-rule",
                                "Tags": [{"Key": "pinhole:owner", "Value": "pinhole"}]}])
        wait_for(lambda: "198.51.100.42/32" not in self.fast_pinhole_cidrs(), 10,
                 "the unknown expired rule to be revoked")

    def test_08_wrong_secret_is_a_clear_auth_failure_without_a_retry_storm(self):
        self.stop_pinholed()
        self.proxy.reset_stats()
        self.start_pinholed(keys=(self.keys[0], "wrong" + self.keys[1][5:]))
        try:
            lease = self.open_lease("198.51.100.50/32")
            rule = lease["rules"][0]
            self.assertIn(rule["status"], ("error", "pending"), lease)
            self.assertIn("AuthFailure", rule.get("error", "") + json.dumps(lease))
            time.sleep(8)
            calls = self.proxy.snapshot()["requests"]
            # Hold-off 5 s doubling: a handful of calls, not one per retry (every 2 s) or more.
            self.assertLessEqual(calls, 6, self.proxy.snapshot())
            status, ready = self.http("GET", "/readyz")
            self.assertEqual(status, 503)
            self.assertIn("AuthFailure", json.dumps(ready))
            self.assertNotIn(self.keys[1][6:], open(os.path.join(self.tmp, "pinholed.log")).read())
            self.end_all_leases()
        finally:
            self.start_pinholed()

    def test_09_policy_missing_an_action_names_it(self):
        self.start_pinholed(keys=self.limited_keys)
        try:
            lease = self.open_lease("198.51.100.60/32")
            rule = lease["rules"][0]
            self.assertEqual(rule["status"], "error", lease)
            self.assertIn("ec2:AuthorizeSecurityGroupIngress", rule["error"])
            self.end_all_leases()
        finally:
            self.start_pinholed()

    def _one_lease_works(self, cidr):
        lease = self.open_lease(cidr)
        self.assertEqual(lease["rules"][0]["status"], "applied", lease)
        self.assertIn(cidr, self.fast_pinhole_cidrs())
        self.close_lease(lease["id"])
        self.assertNotIn(cidr, self.fast_pinhole_cidrs())

    def test_10_credentials_from_a_profile_file(self):
        creds = os.path.join(self.tmp, "credentials")
        with open(creds, "w") as f:
            f.write(f"[default]\naws_access_key_id = AKIAWRONGWRONGWRONG0\naws_secret_access_key = x\n\n"
                    f"[ops]\naws_access_key_id = {self.keys[0]}\naws_secret_access_key = {self.keys[1]}\n")
        self.start_pinholed(keys=(), extra_aws='profile = "ops"\n',
                            env={"AWS_SHARED_CREDENTIALS_FILE": creds})
        try:
            self._one_lease_works("198.51.100.70/32")
        finally:
            self.start_pinholed()

    def test_11_credentials_by_assume_role(self):
        creds = os.path.join(self.tmp, "credentials-src")
        config = os.path.join(self.tmp, "config-role")
        with open(creds, "w") as f:
            f.write(f"[source]\naws_access_key_id = {self.source_keys[0]}\n"
                    f"aws_secret_access_key = {self.source_keys[1]}\n")
        with open(config, "w") as f:
            f.write(f"[profile pinhole]\nrole_arn = {self.role_arn}\nsource_profile = source\n"
                    f"region = {REGION}\n")
        self.start_pinholed(keys=(), env={"AWS_SHARED_CREDENTIALS_FILE": creds, "AWS_CONFIG_FILE": config,
                                          "AWS_PROFILE": "pinhole"})
        try:
            self._one_lease_works("198.51.100.71/32")
        finally:
            self.start_pinholed()

    def test_12_credentials_from_imdsv2(self):
        type(self).imds = ImdsServer(self.keys)
        self.start_pinholed(keys=())
        try:
            self._one_lease_works("198.51.100.72/32")
            methods = [s[0] for s in self.imds.seen]
            self.assertIn("PUT", methods)
            self.assertTrue(all(s[2] for s in self.imds.seen), self.imds.seen)  # TTL / token on each
        finally:
            self.imds.stop()
            type(self).imds = None
            self.start_pinholed()


def in_own_namespace():
    """Re-runs this file inside a fresh network namespace; returns its exit code."""
    ns = f"ph-aws-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        subprocess.run(["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"], check=True)
        env = dict(os.environ, PINHOLE_AWS_E2E_NETNS=ns)
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


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: test_aws.py BIN_DIR")
    BIN_DIR = os.path.abspath(sys.argv.pop(1))
    if not (shutil.which("moto_server") or os.path.exists("/root/.pyenv/shims/moto_server")):
        print("SKIP: moto_server is not installed (scripts/install-deps installs it)")
        sys.exit(77)
    if not os.environ.get("PINHOLE_AWS_E2E_NETNS"):
        # SIGTERM (ctest's timeout) unwinds like Ctrl-C, so the namespace is always deleted.
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, lambda *a: (_ for _ in ()).throw(KeyboardInterrupt()))
        sys.argv.insert(1, BIN_DIR)
        sys.exit(in_own_namespace())
    unittest.main(verbosity=2)
