"""A throwaway Patroni cluster on loopback: three etcd members and three PostgreSQL 15 nodes.

Used by the failover drill (deploy/ha/drill.py, `make ha-drill`) and by the tests that need a real
primary and streaming replica (tests/deploy/test_ha_*.py). Everything lives in one temporary
directory, every port is picked free on 127.0.0.1, and `stop()` ends every process it started
(SIGTERM, then SIGKILL) and removes the directory, whatever state the cluster is in, including a
PostgreSQL left running by a Patroni that was SIGKILLed.

The faults the drill injects are methods here: `kill_leader` (the server is lost: Patroni and
PostgreSQL), `kill_patroni` (only Patroni; its PostgreSQL keeps running as a primary),
`kill_postgres` (only PostgreSQL; Patroni stays), `kill_etcd_leader`, and the ways back
(`restart_patroni`, `restart_etcd`).

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
NODES, ETCD_MEMBERS = 3, 3
DISK_MB = 512  # room for the WAL a standby keeps (Patroni keeps its members' slots on replicas too)


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


def _send(url: str, method: str, body: dict, timeout: float = 5) -> bytes:
    """A JSON request to a loopback URL this module built; the answer's body."""
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method=method,  # noqa: S310
                                 headers={"Content-Type": "application/json"})  # fmt: skip
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - loopback URL we built
        return resp.read()


@dataclass
class Node:
    name: str
    pg_port: int
    api_port: int
    data_dir: Path
    config: Path
    log: Path
    proc: subprocess.Popen | None = None
    killed: bool = False  # its Patroni is not running (SIGKILLed by a drill case)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.pg_port}"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def dsn(self, dbname: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.pg_port}/{dbname}"

    def status(self) -> dict:
        """Patroni's REST view of this node ({} when it does not answer)."""
        try:
            return _http_json(f"{self.api_url}/patroni")[1]
        except OSError:
            return {}

    def postmaster_pid(self) -> int | None:
        """The pid of this node's running postmaster (None when none runs).

        Found in /proc by its command line (`postgres -D <data_dir>`), not from postmaster.pid: a
        node on a small disk keeps its data directory in a mount namespace of its own.
        """
        wanted = str(self.data_dir).encode()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if argv[0].endswith(b"/postgres") and wanted in argv:
                return int(entry.name)
        return None


@dataclass
class EtcdMember:
    name: str
    client_port: int
    peer_port: int
    data_dir: Path
    log: Path
    proc: subprocess.Popen | None = None

    @property
    def client_url(self) -> str:
        return f"http://127.0.0.1:{self.client_port}"

    @property
    def peer_url(self) -> str:
        return f"http://127.0.0.1:{self.peer_port}"

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def status(self) -> dict:
        """etcd's maintenance status (v3 JSON gateway): its member id and the leader's; {} if down."""
        try:
            return json.loads(_send(f"{self.client_url}/v3/maintenance/status", "POST", {}, timeout=2) or b"{}")
        except (OSError, ValueError):
            return {}


@dataclass
class Cluster:
    """Three etcd members + three Patroni nodes; `synchronous` turns Patroni's synchronous_mode on."""

    synchronous: bool = True
    size: int = NODES
    # The node whose data directory lives on a small tmpfs (DISK_MB) in a mount namespace of its
    # own, so the drill can fill its disk without touching the machine's (needs root).
    small_disk: str | None = None
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="comanda-ha-")))
    nodes: list[Node] = field(default_factory=list)
    etcd: list[EtcdMember] = field(default_factory=list)
    _files: list = field(default_factory=list)

    # ------------------------------------------------------------------ lifecycle

    def start(self, timeout: float = 120) -> Cluster:
        self.root.chmod(0o755)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._start_etcd()
        for index in range(self.size):
            self.nodes.append(self._write_node(f"pg{index}"))
        # The first node bootstraps alone, then the others clone it: no race for initdb.
        self._start_node(self.nodes[0])
        self.wait_for_leader(timeout)
        for node in self.nodes[1:]:
            self._start_node(node)
        self.wait_for_replicas(timeout)
        return self

    def stop(self) -> None:
        """End everything this cluster started and remove its directory; never raises."""
        for node in self.nodes:
            _terminate(node.proc, grace=10)
            pid = node.postmaster_pid()  # an orphaned postmaster (its Patroni was killed)
            if pid:
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
        for member in self.etcd:
            _terminate(member.proc, grace=5)
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

    @property
    def standby_first_url(self) -> str:
        """Report reads (REPORTS_DATABASE_URL): any standby, else whatever answers."""
        hosts = ",".join(node.address for node in self.nodes)
        return f"postgresql://{SUPERUSER}@{hosts}/comanda?target_session_attrs=prefer-standby"

    @property
    def patroni_urls(self) -> str:
        """DATABASE_PATRONI_URLS: each node's Patroni REST API, in multi_host_url's order."""
        return ",".join(node.api_url for node in self.nodes)

    def members(self) -> list[dict]:
        """Patroni's /cluster view, asked of any node that answers ([] when none does)."""
        for node in self.nodes:
            if node.killed:
                continue
            with contextlib.suppress(OSError, ValueError):
                code, cluster = _http_json(f"{node.api_url}/cluster")
                if code == 200:
                    return cluster.get("members", [])
        return []

    def node(self, name: str) -> Node:
        return next(n for n in self.nodes if n.name == name)

    def leader(self) -> Node | None:
        for node in self.nodes:
            if not node.killed and node.status().get("role") in ("master", "primary"):
                with contextlib.suppress(OSError):
                    if _http_json(f"{node.api_url}/primary")[0] == 200:
                        return node
        return None

    def replica(self) -> Node | None:
        """A running replica, the synchronous standby first."""
        members = self.members()
        for wanted in ("sync_standby", "replica"):
            for member in members:
                if member.get("role") == wanted and member.get("state") in ("running", "streaming"):
                    node = self.node(member["name"])
                    if not node.killed:
                        return node
        return None

    def sync_standby(self) -> Node | None:
        for member in self.members():
            if member.get("role") == "sync_standby":
                return self.node(member["name"])
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

    def wait_for_replicas(self, timeout: float, count: int | None = None) -> list[Node]:
        """`count` replicas (default: every other node) running and streaming, one of them the
        synchronous standby in synchronous mode."""
        count = self.size - 1 if count is None else count
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            members = self.members()
            running = [m for m in members if m.get("role") in ("replica", "sync_standby")
                       and m.get("state") in ("running", "streaming")]  # fmt: skip
            synced = any(m.get("role") == "sync_standby" for m in running)
            if len(running) >= count and (synced or not self.synchronous):
                return [self.node(m["name"]) for m in running]
            time.sleep(0.3)
        raise RuntimeError(f"not {count} replicas (with a sync standby) within {timeout:.0f}s\n{self.logs()}")

    def wait_for_replica(self, timeout: float) -> Node:
        return self.wait_for_replicas(timeout, count=1)[0]

    def set_maintenance(self, on: bool, timeout: float = 15) -> None:
        """Patroni's pause mode: it stops managing PostgreSQL (e.g. it would resume a paused replay)."""
        self.patch_config({"pause": on})
        deadline = time.monotonic() + timeout
        while any(bool(n.status().get("pause")) != on for n in self.nodes if not n.killed):
            if time.monotonic() > deadline:
                raise RuntimeError(f"Patroni did not {'enter' if on else 'leave'} maintenance mode")
            time.sleep(0.2)

    def patch_config(self, changes: dict) -> None:
        """PATCH Patroni's dynamic configuration (in etcd), through any live node."""
        node = next(n for n in self.nodes if not n.killed)
        _send(f"{node.api_url}/config", "PATCH", changes)

    def switchover(self, candidate: Node, timeout: float = 60) -> Node:
        """A planned switchover to `candidate` (Patroni's POST /switchover)."""
        leader = self.leader()
        _send(f"{leader.api_url}/switchover", "POST", {"leader": leader.name, "candidate": candidate.name}, 30)
        return self.wait_for_leader(timeout, exclude=leader)

    # ------------------------------------------------------------------ faults

    def stall_replication(self) -> list[int]:
        """SIGSTOP the leader's WAL senders: the standbys stop receiving, as over a stalled network.

        Asynchronous commits go on being acknowledged without reaching a standby; synchronous
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
        self.kill_postgres(node)
        self.kill_patroni(node)
        return node

    def kill_patroni(self, node: Node) -> None:
        """SIGKILL only `node`'s Patroni: its PostgreSQL (own session since Patroni setsid()s it) runs on."""
        node.killed = True
        if node.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(node.proc.pid, signal.SIGKILL)  # Patroni and anything in its process group
            node.proc.wait(timeout=10)

    def kill_postgres(self, node: Node) -> int | None:
        """SIGKILL `node`'s postmaster and every backend (as `kill -9` of the server, or the OOM killer)."""
        pid = node.postmaster_pid()
        for victim in [pid, *_children(pid)] if pid else []:
            with contextlib.suppress(ProcessLookupError):
                os.kill(victim, signal.SIGKILL)
        return pid

    def restart_patroni(self, node: Node) -> None:
        """Start `node`'s Patroni again (on an orphaned PostgreSQL it demotes and rewinds it if needed)."""
        self._start_node(node)
        node.killed = False

    def etcd_leader(self) -> EtcdMember | None:
        for member in self.etcd:
            if member.running():
                status = member.status()
                leader_id = status.get("leader")
                if leader_id:
                    for candidate in self.etcd:
                        if candidate.running() and candidate.status().get("header", {}).get("member_id") == leader_id:
                            return candidate
        return None

    def kill_etcd_leader(self) -> EtcdMember:
        """SIGKILL the etcd member that leads the Raft group (the worst one to lose)."""
        member = self.etcd_leader()
        if member is None:
            raise RuntimeError("no etcd leader")
        member.proc.kill()
        member.proc.wait(timeout=10)
        return member

    def restart_etcd(self, member: EtcdMember, timeout: float = 30) -> None:
        self._spawn_etcd(member, state="existing")
        self._wait_etcd_healthy([member], timeout)

    def logs(self) -> str:
        parts = [f"--- {node.name}\n{tail(node.log)}" for node in self.nodes]
        parts += [f"--- {m.name}\n{tail(m.log, 10)}" for m in self.etcd]
        return "\n".join(parts)

    # ------------------------------------------------------------------ internals

    def _check_alive(self) -> None:
        for node in self.nodes:
            if node.proc is not None and not node.killed and node.proc.poll() is not None:
                raise RuntimeError(f"patroni {node.name} exited with {node.proc.returncode}\n{tail(node.log)}")

    def _open_log(self, path: Path):
        handle = path.open("ab")
        self._files.append(handle)
        return handle

    def _start_etcd(self) -> None:
        self.etcd = [EtcdMember(f"etcd{i}", free_port(), free_port(), self.root / f"etcd{i}",
                                self.root / f"etcd{i}.log") for i in range(ETCD_MEMBERS)]  # fmt: skip
        for member in self.etcd:
            self._spawn_etcd(member, state="new")
        self._wait_etcd_healthy(self.etcd, 30)

    def _spawn_etcd(self, member: EtcdMember, state: str) -> None:
        initial = ",".join(f"{m.name}={m.peer_url}" for m in self.etcd)
        member.proc = subprocess.Popen(
            [
                "etcd", "--name", member.name, "--data-dir", str(member.data_dir),
                "--listen-client-urls", member.client_url, "--advertise-client-urls", member.client_url,
                "--listen-peer-urls", member.peer_url, "--initial-advertise-peer-urls", member.peer_url,
                "--initial-cluster", initial, "--initial-cluster-state", state,
                "--initial-cluster-token", self.root.name,
                # etcd's default heartbeat (100 ms) and election timeout (1 s): a new Raft leader
                # within 1-2 s, well inside Patroni's retry_timeout.
            ],
            stdout=self._open_log(member.log), stderr=subprocess.STDOUT, start_new_session=True, **_run_as(),
        )  # fmt: skip

    def _wait_etcd_healthy(self, members: list[EtcdMember], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pending = list(members)
        while pending and time.monotonic() < deadline:
            for member in list(pending):
                if member.proc.poll() is not None:
                    raise RuntimeError(f"{member.name} exited with {member.proc.returncode}\n{tail(member.log)}")
                with contextlib.suppress(OSError, ValueError):
                    if _http_json(f"{member.client_url}/health")[0] == 200:
                        pending.remove(member)
            time.sleep(0.2)
        if pending:
            raise RuntimeError(f"etcd did not become healthy\n{self.logs()}")

    def _write_node(self, name: str) -> Node:
        # A small disk is a tmpfs mounted on <name>-disk inside the node's own mount namespace.
        data_dir = self.root / f"{name}-disk" / "data" if name == self.small_disk else self.root / name
        if name == self.small_disk:
            data_dir.parent.mkdir()
        node = Node(name, free_port(), free_port(), data_dir, self.root / f"{name}.yml",
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
            "etcd3": {"hosts": ",".join(f"127.0.0.1:{m.client_port}" for m in self.etcd)},
            # The drill SIGKILLs Patroni on purpose: with a real /dev/watchdog (deploy/ha/patroni.yml
            # uses `automatic`) that would reset the machine running the drill. Here the app's
            # leader check (DATABASE_PATRONI_URLS) is the fence that is measured.
            "watchdog": {"mode": "off"},
            "bootstrap": {
                "dcs": {
                    "ttl": TTL,
                    "loop_wait": LOOP_WAIT,
                    "retry_timeout": RETRY_TIMEOUT,
                    "maximum_lag_on_failover": 16 * 1024 * 1024,
                    "synchronous_mode": self.synchronous,
                    "synchronous_node_count": 1,
                    "primary_stop_timeout": 5,
                    # etcd unreachable: the primary stays up if every other member confirms over REST.
                    "failsafe_mode": True,
                    "postgresql": {
                        "use_pg_rewind": True,
                        "parameters": {
                            "wal_level": "replica",
                            "hot_standby": "on",
                            "max_wal_senders": 8,
                            "max_replication_slots": 8,
                            "wal_log_hints": "on",
                            "max_connections": 60,
                            "shared_buffers": "32MB",
                            # WAL kept small enough for the small disk (DISK_MB): with the defaults (1 GB
                            # max_wal_size, 5 min checkpoints) a standby there kept every segment of the
                            # drill and, promoted in the server-loss case, had no room for its first one.
                            "max_wal_size": "64MB",
                            "min_wal_size": "32MB",
                            "checkpoint_timeout": "30s",
                            "fsync": "on",
                            "lc_messages": "C",
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
        if node.name == self.small_disk:
            node.proc = subprocess.Popen(self._small_disk_command(node), stdout=log, stderr=subprocess.STDOUT,
                                         cwd=self.root, start_new_session=True)  # fmt: skip
            return
        node.proc = subprocess.Popen(
            ["patroni", str(node.config)], stdout=log, stderr=subprocess.STDOUT, cwd=self.root,
            start_new_session=True, **_run_as(),
        )  # fmt: skip

    def _small_disk_command(self, node: Node) -> list[str]:
        """Patroni in the node's mount namespace: a new one with a fresh tmpfs, or (its PostgreSQL
        still running, after kill_patroni) the one that PostgreSQL lives in."""
        if os.geteuid() != 0:
            raise RuntimeError("a small disk needs root (a tmpfs in a private mount namespace)")
        run = ["setpriv", "--reuid", "postgres", "--regid", "postgres", "--init-groups", "patroni", str(node.config)]
        pid = node.postmaster_pid()
        if pid is not None:
            return ["nsenter", "-t", str(pid), "-m", "--", *run]
        entry = pwd.getpwnam("postgres")
        mount = (f"mount -t tmpfs -o size={DISK_MB}m,mode=0755,uid={entry.pw_uid},gid={entry.pw_gid} "
                 f"comanda-drill {node.data_dir.parent}")  # fmt: skip
        return ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
                f'{mount} && exec "$@"', "sh", *run]  # fmt: skip

    def fill_disk(self, node: Node) -> None:
        """Fill `node`'s small disk to the last byte."""
        script = f"dd if=/dev/zero of={node.data_dir.parent / 'filler'} bs=1M 2>/dev/null; sync; exit 0"
        subprocess.run(["nsenter", "-t", str(self._namespace_pid(node)), "-m", "--", "sh", "-c", script],
                       check=True, timeout=60)  # fmt: skip

    def free_disk(self, node: Node) -> None:
        filler = str(node.data_dir.parent / "filler")
        subprocess.run(["nsenter", "-t", str(self._namespace_pid(node)), "-m", "--", "rm", "-f", filler],
                       check=True, timeout=30)  # fmt: skip

    def _namespace_pid(self, node: Node) -> int:
        """A process in the node's mount namespace: its Patroni (unshare/nsenter exec it), else its postmaster."""
        if node.proc is not None and node.proc.poll() is None:
            return node.proc.pid
        pid = node.postmaster_pid()
        if pid is None:
            raise RuntimeError(f"nothing runs in {node.name}'s mount namespace any more")
        return pid


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
