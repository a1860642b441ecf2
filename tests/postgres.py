"""A throw-away PostgreSQL server for tests (a helper, not a test module).

``postgres_server()`` is a context manager: it finds Debian's PostgreSQL binaries
(``/usr/lib/postgresql/<version>/bin``), runs ``initdb`` into a new temporary folder, starts
the server on a free TCP port of 127.0.0.1 with its Unix socket inside that folder, creates a
database and a password-protected role that owns it, and at the end stops the server and
removes the folder. It never touches the system cluster the Debian package may have made.

PostgreSQL refuses to run as root: under root, ``initdb`` and ``pg_ctl`` run as the
``postgres`` system user (``runuser -u postgres --``) and the folder is owned by that user.

When the binaries are missing or the server does not start, the test fails (``pytest.fail``)
with a one-line reason and how to install the server; it never skips.

    with postgres_server() as pg:
        pg.psql("CREATE TABLE t (x int)")       # as the role, in its database
        engine = sqlalchemy.create_engine(pg.url)
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

INSTALL = "install it with `apt-get install postgresql` (Debian/Ubuntu)"
OS_USER = "postgres"  # the system user Debian's package creates
SUPERUSER = "postgres"  # the cluster's superuser (initdb -U); local socket connections only


@dataclass
class PostgresServer:
    """A running throw-away server: connect over TCP at 127.0.0.1:``port`` as ``user`` with
    ``password`` to ``dbname`` (``url`` is the SQLAlchemy URL saying all that)."""

    bin_dir: Path
    root: Path
    port: int
    user: str
    password: str
    dbname: str
    host: str = "127.0.0.1"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "socket"

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}:{self.password}@{self.host}:{self.port}/{self.dbname}"

    def psql(self, sql: str, user: str | None = None, dbname: str | None = None) -> str:
        """Run SQL with psql over the Unix socket (no driver involved); return its output.
        By default as the role, in its database; stops at the first error."""
        result = subprocess.run(
            [str(self.bin_dir / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
             "-h", str(self.socket_dir), "-p", str(self.port),
             "-U", user or self.user, "-d", dbname or self.dbname],
            input=sql, capture_output=True, text=True, env=_env(), timeout=60)
        if result.returncode != 0:
            raise RuntimeError(f"psql failed: {_one_line(result.stderr)}")
        return result.stdout


def find_bin_dir() -> Path:
    """The newest /usr/lib/postgresql/<version>/bin holding initdb, pg_ctl and psql."""
    found = []
    for initdb in glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        bin_dir = Path(initdb).parent
        if all((bin_dir / name).exists() for name in ("pg_ctl", "psql", "postgres")):
            version = tuple(int(n) for n in re.findall(r"\d+", bin_dir.parent.name))
            found.append((version, bin_dir))
    if not found:
        _fail("PostgreSQL server binaries not found (no /usr/lib/postgresql/*/bin/initdb with pg_ctl "
              f"and psql): {INSTALL}")
    return max(found)[1]


@contextlib.contextmanager
def postgres_server(user: str = "dbm_reader", dbname: str = "sales", password: str | None = None):
    """Start a throw-away PostgreSQL server; yield a :class:`PostgresServer`; stop and remove it."""
    bin_dir = find_bin_dir()
    as_root = os.geteuid() == 0
    if as_root:
        try:
            owner = pwd.getpwnam(OS_USER)
        except KeyError:
            _fail(f"no '{OS_USER}' system user to run PostgreSQL as (it refuses to run as root): {INSTALL}")
    password = password or "pw-" + secrets.token_hex(8)
    root = Path(tempfile.mkdtemp(prefix="dbm-postgres-", dir="/tmp" if as_root else None))
    try:
        (root / "socket").mkdir()
        if as_root:
            for path in (root, root / "socket"):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        _run(bin_dir, ["initdb", "-D", str(root / "data"), "-U", SUPERUSER, "-E", "UTF8", "--no-locale",
                       "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync"], as_root, "initdb failed")
        server = _start(bin_dir, root, as_root, user, password, dbname)
        try:
            server.psql(f"CREATE ROLE {user} LOGIN PASSWORD '{password}';\n"
                        f"CREATE DATABASE {dbname} OWNER {user} ENCODING 'UTF8' TEMPLATE template0;\n",
                        user=SUPERUSER, dbname="postgres")
        except RuntimeError as error:
            _fail(f"the PostgreSQL test server started but the role and database could not be made: {error}")
        yield server
    finally:
        _stop(bin_dir, root, as_root)  # nothing to do when it never started
        shutil.rmtree(root, ignore_errors=True)


def _start(bin_dir: Path, root: Path, as_root: bool, user: str, password: str, dbname: str) -> PostgresServer:
    """Start the server on a free port (a few tries: another process may take the port)."""
    settings = root / "data" / "postgresql.conf"
    log = root / "server.log"
    for attempt in range(3):
        port = _free_port()
        with settings.open("a", encoding="utf-8") as conf:  # the last setting of a name wins
            conf.write(f"\n# dbmarketing tests\nlisten_addresses = '127.0.0.1'\nport = {port}\n"
                       f"unix_socket_directories = '{root / 'socket'}'\nfsync = off\n"
                       "synchronous_commit = off\nfull_page_writes = off\nmax_connections = 20\n"
                       "timezone = 'UTC'\n")
        start_of_log = log.stat().st_size if log.exists() else 0
        result = _run(bin_dir, ["pg_ctl", "-D", str(root / "data"), "-l", str(log), "-w", "-t", "60", "start"],
                      as_root, None)
        if result.returncode == 0:
            return PostgresServer(bin_dir, root, port, user, password, dbname)
        _stop(bin_dir, root, as_root)
        messages = _log_since(log, start_of_log)
        if "already in use" in " ".join(messages) and attempt < 2:
            continue  # someone took the port between probe and start: another one
        errors = [line for line in messages if "FATAL" in line or "ERROR" in line]
        in_use = [line for line in messages if "already in use" in line]
        reason = (in_use or errors or messages or [_one_line(result.stderr or result.stdout)])[-1]
        _fail(f"the PostgreSQL test server ({bin_dir}) did not start: {reason}; is Debian's postgresql "
              "installed properly? (apt-get install postgresql)")


def _stop(bin_dir: Path, root: Path, as_root: bool) -> None:
    """Stop the server; if pg_ctl cannot, kill the postmaster this helper started."""
    data = root / "data"
    pid_file = data / "postmaster.pid"
    if not pid_file.exists():
        return
    pid = int(pid_file.read_text().split()[0])
    result = _run(bin_dir, ["pg_ctl", "-D", str(data), "-m", "fast", "-w", "-t", "30", "stop"], as_root, None)
    if result.returncode != 0:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    for _ in range(100):  # wait until the postmaster is gone before its folder is removed
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)


def _run(bin_dir: Path, command: list[str], as_root: bool, fail_as: str | None):
    """Run a server program, as the postgres user under root; with `fail_as`, fail the test
    with that text and the program's last message when it does not succeed."""
    prefix = ["runuser", "-u", OS_USER, "--"] if as_root else []
    program = [str(bin_dir / command[0]), *command[1:]]
    try:
        result = subprocess.run(prefix + program, capture_output=True, text=True, env=_env(),
                                cwd="/", timeout=120, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as error:
        _fail(f"{command[0]} could not run ({error}): {INSTALL}")
    if fail_as and result.returncode != 0:
        _fail(f"{fail_as}: {_one_line(result.stderr or result.stdout)}; {INSTALL}")
    return result


def _env() -> dict[str, str]:
    """The environment of the server programs: no PG* settings of the caller, a plain locale."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(LC_ALL="C", LANG="C")
    return env


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _log_since(log: Path, offset: int) -> list[str]:
    """The non-empty lines the server logged after `offset`, each made one line."""
    try:
        with log.open("rb") as file:
            file.seek(offset)
            text = file.read().decode("utf-8", errors="replace")
    except OSError:
        return []
    return [_one_line(line) for line in text.splitlines() if line.strip()]


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _fail(message: str):
    pytest.fail(_one_line(message), pytrace=False)
