"""A throwaway network of namespaces for Pinhole's end-to-end tests.

    server  (pinholed + a TCP echo service on a protected port)
      |-- veth --  client1  198.51.100.2/24, 2001:db8:1::2/64
      |-- veth --  client2  203.0.113.2/24,  2001:db8:2::2/64

Everything is created with a per-run suffix and removed by close(), also
when a test fails. Traffic stays inside these namespaces.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "admin-password-for-tests"
API_PORT = 8080
SERVICE_PORT = 2222

CLIENTS = {
    "client1": {"v4": ("198.51.100.1", "198.51.100.2"), "v6": ("2001:db8:1::1", "2001:db8:1::2")},
    "client2": {"v4": ("203.0.113.1", "203.0.113.2"), "v6": ("2001:db8:2::1", "2001:db8:2::2")},
}


def run(*args, check=True, **kw):
    return subprocess.run(list(args), check=check, capture_output=True, text=True, **kw)


class Testbed:
    def __init__(self, bin_dir, table="pinhole"):
        self.bin_dir = os.path.abspath(bin_dir)
        self.suffix = f"{os.getpid() % 100000}"
        self.server = f"ph-srv-{self.suffix}"
        self.ns = {name: f"ph-{name[-1]}c-{self.suffix}" for name in CLIENTS}
        self.tmp = tempfile.mkdtemp(prefix="pinhole-e2e-")
        self.db = os.path.join(self.tmp, "pinhole.db")
        self.table = table
        self.procs = []
        self.extra_ns = []
        self.pinholed = None
        self.pinholed_log = None
        self._setup_network()

    # --- network -------------------------------------------------------
    def _setup_network(self):
        run("ip", "netns", "add", self.server)
        run("ip", "netns", "exec", self.server, "ip", "link", "set", "lo", "up")
        for i, (name, addrs) in enumerate(CLIENTS.items()):
            ns = self.ns[name]
            run("ip", "netns", "add", ns)
            a, b = f"phs{i}-{self.suffix}", f"phc{i}-{self.suffix}"
            run("ip", "link", "add", a, "netns", self.server, "type", "veth", "peer", "name", b, "netns", ns)
            for where, dev, side in ((self.server, a, 0), (ns, b, 1)):
                run("ip", "netns", "exec", where, "ip", "link", "set", "lo", "up")
                run("ip", "netns", "exec", where, "ip", "addr", "add", addrs["v4"][side] + "/24", "dev", dev)
                run("ip", "netns", "exec", where, "ip", "-6", "addr", "add", addrs["v6"][side] + "/64",
                    "dev", dev, "nodad")
                run("ip", "netns", "exec", where, "ip", "link", "set", dev, "up")

    def add_private_host(self, name="target", server_addr="10.77.0.1", host_addr="10.77.0.2"):
        """A namespace reachable from the server's namespace only (no route from the clients).
        Returns its namespace name; close() removes it."""
        ns = f"ph-{name}-{self.suffix}"
        run("ip", "netns", "add", ns)
        self.extra_ns.append(ns)
        a, b = f"pht-{self.suffix}", f"phh-{self.suffix}"
        run("ip", "link", "add", a, "netns", self.server, "type", "veth", "peer", "name", b, "netns", ns)
        for where, dev, addr in ((self.server, a, server_addr), (ns, b, host_addr)):
            run("ip", "netns", "exec", where, "ip", "link", "set", "lo", "up")
            run("ip", "netns", "exec", where, "ip", "addr", "add", addr + "/24", "dev", dev)
            run("ip", "netns", "exec", where, "ip", "link", "set", dev, "up")
        return ns

    def exec_in(self, ns, *args, **kw):
        return run("ip", "netns", "exec", ns, *args, **kw)

    # --- processes -----------------------------------------------------
    def start_echo_service(self, port=SERVICE_PORT):
        # A dual-stack TCP echo server inside the server namespace.
        p = subprocess.Popen(["ip", "netns", "exec", self.server, "socat",
                              f"TCP6-LISTEN:{port},fork,reuseaddr,ipv6only=0", "EXEC:cat"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(p)
        self._wait(lambda: self.exec_in(self.server, "ss", "-ltn", check=False).stdout.find(f":{port}") >= 0,
                   "echo service to listen")

    def start_pinholed(self, extra_env=None, config_text=None):
        env = dict(os.environ, PINHOLE_BOOTSTRAP_ADMIN_EMAIL=ADMIN_EMAIL,
                   PINHOLE_BOOTSTRAP_ADMIN_PASSWORD=ADMIN_PASSWORD)
        env.update(extra_env or {})
        config = os.path.join(self.tmp, "pinhole.toml")
        with open(config, "w") as f:
            f.write(config_text or (
                "[server]\n"
                f'listen = ["0.0.0.0:{API_PORT}", "[::]:{API_PORT}"]\n'
                f'public_url = "http://198.51.100.1:{API_PORT}"\n'
                "[store]\n"
                f'sqlite = "{self.db}"\n'
                "[nftables]\n"
                f'table = "{self.table}"\n'
                "[controller]\n"
                'resync_interval = "2s"\n'))
        if self.pinholed_log:
            self.pinholed_log.close()
        self.pinholed_log = open(os.path.join(self.tmp, "pinholed.log"), "a")
        self.pinholed = subprocess.Popen(
            ["ip", "netns", "exec", self.server, os.path.join(self.bin_dir, "pinholed"), "--config", config],
            env=env, stdout=self.pinholed_log, stderr=subprocess.STDOUT)
        self._wait(lambda: self.api("GET", "/readyz", ns=self.server)[0] == 200, "pinholed to be ready")

    def kill_pinholed(self, sig=signal.SIGKILL):
        if self.pinholed and self.pinholed.poll() is None:
            # ip netns exec execs the binary, so the pid is pinholed's own.
            os.kill(self.pinholed.pid, sig)
            self.pinholed.wait(timeout=10)

    def _wait(self, cond, what, timeout=15.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if cond():
                    return
            except Exception:
                pass
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; log:\n{self.log_tail()}")

    def log_tail(self):
        try:
            with open(os.path.join(self.tmp, "pinholed.log")) as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    # --- talking to the server ----------------------------------------
    def server_url(self, client="client1", family="v4"):
        addr = CLIENTS[client][family][0]
        return f"http://[{addr}]:{API_PORT}" if family == "v6" else f"http://{addr}:{API_PORT}"

    def api(self, method, path, body=None, token=None, ns=None, client="client1", family="v4",
            headers=None, raw_body=None):
        """Calls the API from inside a namespace via curl; returns (status, json-or-text, headers)."""
        ns = ns or self.ns[client]
        url = (f"http://127.0.0.1:{API_PORT}" if ns == self.server else self.server_url(client, family)) + path
        args = ["curl", "-sS", "-o", "-", "-w", "\n%{http_code}", "-X", method, "-D",
                os.path.join(self.tmp, "hdr.txt"), "--max-time", "20"]
        if token:
            args += ["-H", f"Authorization: Bearer {token}"]
        for h in headers or []:
            args += ["-H", h]
        if raw_body is not None or body is not None:
            args += ["-H", "Content-Type: application/json", "--data-binary", "@-"]
        data = raw_body if raw_body is not None else (json.dumps(body) if body is not None else None)
        out = self.exec_in(ns, *args, url, input=data, check=False)
        text, _, code = out.stdout.rpartition("\n")
        try:
            payload = json.loads(text) if text else None
        except ValueError:
            payload = text
        with open(os.path.join(self.tmp, "hdr.txt")) as f:
            hdrs = f.read()
        return int(code or 0), payload, hdrs

    def login(self, email, password, client="client1", family="v4"):
        status, body, _ = self.api("POST", "/api/v1/session", {"email": email, "password": password},
                                   client=client, family=family)
        assert status == 200, (status, body)
        return body["token"]

    def cli(self, client, *args, home=None, input=None, check=True):
        """Runs the pinhole CLI inside a client namespace with its own HOME."""
        home = home or os.path.join(self.tmp, f"home-{client}")
        os.makedirs(home, exist_ok=True)
        env = dict(os.environ, HOME=home, XDG_CONFIG_HOME=os.path.join(home, ".config"))
        env.pop("PINHOLE_SERVER", None)
        env.pop("PINHOLE_TOKEN", None)
        return run("ip", "netns", "exec", self.ns[client], os.path.join(self.bin_dir, "pinhole"), *args,
                   env=env, input=input, check=check)

    # --- reachability --------------------------------------------------
    def can_connect(self, client, family="v4", port=SERVICE_PORT, timeout=1.0):
        """True if a TCP connection from `client` to the protected port completes and echoes."""
        addr = CLIENTS[client][family][0]
        script = (
            "import socket,sys\n"
            f"s=socket.create_connection(('{addr}',{port}),timeout={timeout})\n"
            "s.sendall(b'ping');d=s.recv(4)\n"
            "sys.exit(0 if d==b'ping' else 1)\n")
        return self.exec_in(self.ns[client], "python3", "-c", script, check=False).returncode == 0

    def nft_table(self):
        out = self.exec_in(self.server, "nft", "-j", "list", "table", "inet", self.table, check=False)
        return out.stdout if out.returncode == 0 else ""

    def nft_elements(self):
        """{set name: sorted element values} of our table, without timing fields."""
        text = self.nft_table()
        if not text:
            return {}
        result = {}
        for item in json.loads(text)["nftables"]:
            s = item.get("set")
            if s:
                vals = []
                for e in s.get("elem", []):
                    v = e["elem"]["val"] if isinstance(e, dict) and "elem" in e else e
                    vals.append(json.dumps(v, sort_keys=True))
                result[s["name"]] = sorted(vals)
        return result

    def close(self):
        self.kill_pinholed(signal.SIGTERM)
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    p.kill()
        # Deleting the namespaces removes their veths, nftables tables and sockets.
        for ns in [self.server, *self.ns.values(), *self.extra_ns]:
            run("ip", "netns", "pids", ns, check=False)
            for pid in run("ip", "netns", "pids", ns, check=False).stdout.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
            run("ip", "netns", "del", ns, check=False)
        if self.pinholed_log:
            self.pinholed_log.close()
        if os.environ.get("PINHOLE_E2E_KEEP"):
            print("kept", self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
