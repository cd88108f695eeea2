"""A throwaway PostgreSQL cluster for fault tests: its own initdb in a temp dir, its own port.

Fault tests freeze database processes with SIGSTOP; they must never touch the shared server of
TEST_DATABASE_URL. This cluster is built from the local binaries (`initdb`, `pg_ctl`), runs as
the `postgres` OS user when the tests run as root (initdb refuses root), listens on 127.0.0.1 on
a free port, and is stopped and deleted at the end, thawed first if a test left it frozen.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def find_pg_bindir() -> Path | None:
    """The directory of initdb/pg_ctl: PATH first, then Debian's /usr/lib/postgresql/<version>/bin."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(candidates[-1]).parent if candidates else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children(pid: int) -> list[int]:
    """Direct children of a process, from /proc."""
    kids = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            text = Path(stat).read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces, so split after the last ')'.
        fields = text.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            kids.append(int(stat.split("/")[2]))
    return kids


class ThrowawayPostgres:
    """initdb + pg_ctl start in a temp dir; `freeze()`/`thaw()` stop and continue every server process."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="comanda-pgfault-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self._frozen: list[int] = []
        self._user = None
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            self._user = pwd.getpwnam("postgres")
            os.chown(self.root, self._user.pw_uid, self._user.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        self.options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=200 -c shared_buffers=32MB"
        )
        self.start()

    def start(self) -> None:
        """Start the server (again, after `halt()`), on the same port and data."""
        self._run("pg_ctl", "-D", str(self.data), "-o", self.options, "-l", str(self.root / "server.log"), "-w",
                  "start")

    def halt(self) -> None:
        """Stop the server, keeping its data (a restart or a failover, as clients see it): `start()` again."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    @property
    def server_url(self) -> str:
        return self.url()

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bindir / tool), *args]
        if self._user is not None:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=self.root)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join((self.root / "server.log").read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "<no server log>"

    def postmaster_pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def create_database(self, name: str) -> str:
        import psycopg2

        conn = psycopg2.connect(self.server_url, connect_timeout=5)
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{name}"')
        finally:
            conn.close()
        return self.url(name)

    def freeze(self) -> None:
        """SIGSTOP the postmaster and every backend: the kernel still accepts and acknowledges TCP,
        but no process answers - a hanging database, not a refusing one."""
        # The postmaster first: stopped, it forks no backend after its children are listed (listed first,
        # a backend forked meanwhile would escape the freeze and go on serving its connection).
        master = self.postmaster_pid()
        os.kill(master, signal.SIGSTOP)
        self._frozen.append(master)
        for pid in _children(master):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)
                self._frozen.append(pid)

    def freeze_process(self, pid: int) -> None:
        """SIGSTOP one backend (the one serving a given connection)."""
        os.kill(pid, signal.SIGSTOP)
        self._frozen.append(pid)

    def thaw(self) -> None:
        for pid in self._frozen:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        self._frozen.clear()

    def stop(self) -> None:
        self.thaw()
        with contextlib.suppress(Exception):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        # Whatever survived (a failed stop): kill the postmaster's process group by pid.
        with contextlib.suppress(Exception):
            os.kill(self.postmaster_pid(), signal.SIGKILL)
        time.sleep(0.1)
        shutil.rmtree(self.root, ignore_errors=True)
