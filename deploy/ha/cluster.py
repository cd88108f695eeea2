"""A throwaway Patroni cluster on loopback: one etcd node and two PostgreSQL 15 nodes.

Used by the failover drill (deploy/ha/drill.py, `make ha-drill`) and by the tests that need a real
primary and streaming replica (tests/deploy/test_ha_*.py). Everything lives in one temporary
directory, every port is picked free on 127.0.0.1, and `stop()` ends every process it started
(SIGTERM, then SIGKILL) and removes the directory, whatever state the cluster is in.

Only Debian's packages are used: `etcd` (etcd-server), `patroni`, PostgreSQL binaries from
PG_BIN_DIR (default /usr/lib/postgresql/15/bin). As root, PostgreSQL and Patroni run as the
`postgres` user (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

PG_BIN_DIR = os.environ.get("PG_BIN_DIR", "/usr/lib/postgresql/15/bin")
SUPERUSER = "postgres"

# Small timings so a failover fits in a CI run: the leader key lives TTL seconds, Patroni loops
# every LOOP_WAIT seconds and gives DCS/PostgreSQL operations RETRY_TIMEOUT seconds
# (Patroni wants loop_wait + 2 * retry_timeout <= ttl).
TTL, LOOP_WAIT, RETRY_TIMEOUT = 10, 2, 4


def missing_tools() -> list[str]:
    """What this machine lacks to run the cluster (empty when it can)."""
    missing = [name for name in ("etcd", "patroni") if shutil.which(name) is None]
    if not os.access(Path(PG_BIN_DIR) / "postgres", os.X_OK):
        missing.append(f"{PG_BIN_DIR}/postgres")
    return missing


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"<{path} unreadable>"


def _run_as() -> dict:
    """Popen keyword arguments that drop root to `postgres` (PostgreSQL will not run as root)."""
    if os.geteuid() != 0:
        return {}
    entry = pwd.getpwnam("postgres")
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def _http_json(url: str, timeout: float = 2.0) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - loopback URL we built
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        body = exc.read()
        try:
            return exc.code, json.loads(body or b"{}")
        except ValueError:
            return exc.code, {}


@dataclass
class Node:
    name: str
    pg_port: int
    api_port: int
    data_dir: Path
    config: Path
    log: Path
    proc: subprocess.Popen | None = None
    killed: bool = False

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.pg_port}"

    def dsn(self, dbname: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.pg_port}/{dbname}"

    def status(self) -> dict:
        """Patroni's REST view of this node ({} when it does not answer)."""
        try:
            return _http_json(f"http://127.0.0.1:{self.api_port}/patroni")[1]
        except OSError:
            return {}

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.data_dir / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None


@dataclass
class Cluster:
    """etcd + two Patroni nodes; `synchronous` turns Patroni's synchronous_mode on."""

    synchronous: bool = True
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="comanda-ha-")))
    nodes: list[Node] = field(default_factory=list)
    etcd: subprocess.Popen | None = None
    etcd_port: int = 0
    _files: list = field(default_factory=list)

    # ------------------------------------------------------------------ lifecycle

    def start(self, timeout: float = 90) -> Cluster:
        self.root.chmod(0o755)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._start_etcd()
        for index in range(2):
            self.nodes.append(self._write_node(f"pg{index}"))
        # The first node bootstraps alone, then the second clones it: no race for initdb.
        self._start_node(self.nodes[0])
        self.wait_for_leader(timeout)
        self._start_node(self.nodes[1])
        self.wait_for_replica(timeout)
        return self

    def stop(self) -> None:
        """End everything this cluster started and remove its directory; never raises."""
        for node in self.nodes:
            _terminate(node.proc, grace=10)
            pid = node.postmaster_pid()  # an orphaned postmaster (its Patroni was killed)
            if pid and not node.killed:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGQUIT)
        for node in self.nodes:
            pid = node.postmaster_pid()
            deadline = time.monotonic() + 10
            while pid and _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.2)
            if pid and _alive(pid):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
        _terminate(self.etcd, grace=5)
        for handle in self._files:
            handle.close()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Cluster:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()

    # ------------------------------------------------------------------ queries

    @property
    def multi_host_url(self) -> str:
        hosts = ",".join(node.address for node in self.nodes)
        return f"postgresql://{SUPERUSER}@{hosts}/comanda?target_session_attrs=read-write"

    def leader(self) -> Node | None:
        for node in self.nodes:
            if (
                not node.killed
                and node.status().get("role") in ("master", "primary")
                and _http_json(f"http://127.0.0.1:{node.api_port}/primary")[0] == 200
            ):
                return node
        return None

    def replica(self) -> Node | None:
        for node in self.nodes:
            if not node.killed and node.status().get("role") == "replica":
                return node
        return None

    def wait_for_leader(self, timeout: float, exclude: Node | None = None) -> Node:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            with contextlib.suppress(OSError):
                node = self.leader()
                if node is not None and node is not exclude:
                    return node
            time.sleep(0.3)
        raise RuntimeError(f"no Patroni leader within {timeout:.0f}s\n{self.logs()}")

    def wait_for_replica(self, timeout: float) -> Node:
        """A replica streaming from the leader (and, in synchronous mode, its sync standby)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            with contextlib.suppress(OSError):
                code, cluster = _http_json(f"http://127.0.0.1:{self.nodes[0].api_port}/cluster")
                members = cluster.get("members", []) if code == 200 else []
                wanted = "sync_standby" if self.synchronous else "replica"
                for member in members:
                    if member.get("role") == wanted and member.get("state") in ("running", "streaming"):
                        return next(n for n in self.nodes if n.name == member["name"])
            time.sleep(0.3)
        wanted = "sync standby" if self.synchronous else "replica"
        raise RuntimeError(f"no {wanted} within {timeout:.0f}s\n{self.logs()}")

    def set_maintenance(self, on: bool, timeout: float = 15) -> None:
        """Patroni's pause mode: it stops managing PostgreSQL (e.g. it would resume a paused replay)."""
        body = json.dumps({"pause": on}).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{self.nodes[0].api_port}/config", data=body,
                                     method="PATCH", headers={"Content-Type": "application/json"})  # fmt: skip
        with urllib.request.urlopen(req, timeout=5):  # noqa: S310 - loopback URL we built
            pass
        deadline = time.monotonic() + timeout
        while any(bool(n.status().get("pause")) != on for n in self.nodes if not n.killed):
            if time.monotonic() > deadline:
                raise RuntimeError(f"Patroni did not {'enter' if on else 'leave'} maintenance mode")
            time.sleep(0.2)

    def stall_replication(self) -> list[int]:
        """SIGSTOP the leader's WAL senders: the standby stops receiving, as over a stalled network.

        Asynchronous commits go on being acknowledged without reaching the standby; synchronous
        ones wait for it. Returns the stopped pids (kill_leader ends them).
        """
        import psycopg2

        leader = self.leader()
        conn = psycopg2.connect(leader.dsn(), connect_timeout=5)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT pid FROM pg_stat_replication")
                pids = [row[0] for row in cur.fetchall()]
        finally:
            conn.close()
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        return pids

    def kill_leader(self) -> Node:
        """Lose the leader's server at once: SIGKILL its Patroni, its postmaster and every backend."""
        node = self.leader()
        if node is None:
            raise RuntimeError("no leader to kill")
        pid = node.postmaster_pid()
        doomed = ([pid, *_children(pid)] if pid else []) + ([node.proc.pid] if node.proc else [])
        node.killed = True
        for victim in doomed:
            with contextlib.suppress(ProcessLookupError):
                os.kill(victim, signal.SIGKILL)
        if node.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(node.proc.pid, signal.SIGKILL)  # anything else Patroni started
            node.proc.wait(timeout=10)
        return node

    def logs(self) -> str:
        parts = [f"--- {node.name}\n{tail(node.log)}" for node in self.nodes]
        parts.append(f"--- etcd\n{tail(self.root / 'etcd.log', 10)}")
        return "\n".join(parts)

    # ------------------------------------------------------------------ internals

    def _check_alive(self) -> None:
        if self.etcd is not None and self.etcd.poll() is not None:
            raise RuntimeError(f"etcd exited with {self.etcd.returncode}\n{tail(self.root / 'etcd.log')}")
        for node in self.nodes:
            if node.proc is not None and not node.killed and node.proc.poll() is not None:
                raise RuntimeError(f"patroni {node.name} exited with {node.proc.returncode}\n{tail(node.log)}")

    def _open_log(self, path: Path):
        handle = path.open("ab")
        self._files.append(handle)
        return handle

    def _start_etcd(self) -> None:
        self.etcd_port, peer = free_port(), free_port()
        log = self._open_log(self.root / "etcd.log")
        self.etcd = subprocess.Popen(
            [
                "etcd", "--name", "etcd0", "--data-dir", str(self.root / "etcd"),
                "--listen-client-urls", f"http://127.0.0.1:{self.etcd_port}",
                "--advertise-client-urls", f"http://127.0.0.1:{self.etcd_port}",
                "--listen-peer-urls", f"http://127.0.0.1:{peer}",
                "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
                "--initial-cluster", f"etcd0=http://127.0.0.1:{peer}",
                "--initial-cluster-state", "new",
            ],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True, **_run_as(),
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            self._check_alive()
            with contextlib.suppress(OSError):
                if _http_json(f"http://127.0.0.1:{self.etcd_port}/health")[0] == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"etcd did not become healthy\n{tail(self.root / 'etcd.log')}")

    def _write_node(self, name: str) -> Node:
        node = Node(name, free_port(), free_port(), self.root / name, self.root / f"{name}.yml",
                    self.root / f"{name}.log")  # fmt: skip
        socket_dir = self.root / f"{name}-socket"
        socket_dir.mkdir()
        if os.geteuid() == 0:
            shutil.chown(socket_dir, "postgres", "postgres")
        config = {
            "scope": "comanda",
            "namespace": "/comanda-drill/",
            "name": name,
            "log": {"level": "INFO"},
            "restapi": {"listen": f"127.0.0.1:{node.api_port}", "connect_address": f"127.0.0.1:{node.api_port}"},
            "etcd3": {"hosts": f"127.0.0.1:{self.etcd_port}"},
            "bootstrap": {
                "dcs": {
                    "ttl": TTL,
                    "loop_wait": LOOP_WAIT,
                    "retry_timeout": RETRY_TIMEOUT,
                    "maximum_lag_on_failover": 16 * 1024 * 1024,
                    "synchronous_mode": self.synchronous,
                    "postgresql": {
                        "use_pg_rewind": True,
                        "parameters": {
                            "wal_level": "replica",
                            "hot_standby": "on",
                            "max_wal_senders": 5,
                            "max_replication_slots": 5,
                            "wal_log_hints": "on",
                            "max_connections": 60,
                            "shared_buffers": "32MB",
                            "fsync": "on",
                        },
                    },
                },
                "initdb": [{"encoding": "UTF8"}, {"locale": "C"}],
                "pg_hba": [
                    "local all all trust",
                    "host replication replicator 127.0.0.1/32 trust",
                    "host all all 127.0.0.1/32 trust",
                ],
            },
            "postgresql": {
                "listen": f"127.0.0.1:{node.pg_port}",
                "connect_address": f"127.0.0.1:{node.pg_port}",
                "data_dir": str(node.data_dir),
                "bin_dir": PG_BIN_DIR,
                "pgpass": str(self.root / f"{name}.pgpass"),
                "authentication": {
                    "superuser": {"username": SUPERUSER, "password": "drill"},
                    "replication": {"username": "replicator", "password": "drill"},
                    "rewind": {"username": "rewinder", "password": "drill"},
                },
                "parameters": {"unix_socket_directories": str(socket_dir)},
            },
            "tags": {"nofailover": False, "noloadbalance": False, "clonefrom": False, "nosync": False},
        }
        # JSON is YAML: no PyYAML needed to write Patroni's configuration.
        node.config.write_text(json.dumps(config, indent=2))
        return node

    def _start_node(self, node: Node) -> None:
        log = self._open_log(node.log)
        node.proc = subprocess.Popen(
            ["patroni", str(node.config)], stdout=log, stderr=subprocess.STDOUT, cwd=self.root,
            start_new_session=True, **_run_as(),
        )  # fmt: skip


def _children(pid: int) -> list[int]:
    """Direct children of `pid` (PostgreSQL's backends of a postmaster), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 1 and fields[1] == str(pid):
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _terminate(proc: subprocess.Popen | None, grace: float) -> None:
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)
