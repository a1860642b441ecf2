"""Kernels forked from a zygote: a process that imported ipykernel and the workbook once.

Every notebook of a report runs in a kernel of its own, and a new kernel spends about 3.4 s of
CPU importing ipykernel, matplotlib, pandas, seaborn (scipy.stats) and the workbook before the
notebook's first cell: most of a small notebook's time, and about 13 minutes of CPU in the ~230
notebook runs of ``make test``. On POSIX a process that has done those imports can fork a copy
of itself in a millisecond, the imports already done. The zygote (:mod:`.zygote_server`) is
such a process: started once per runner process, it imports what a kernel imports at start
(ipykernel's application) and what every notebook imports (:data:`.kernels.WARM_IMPORTS`), and
then forks one child per kernel. The child becomes the process ``python -m ipykernel_launcher``
would have been: its own session, the requested working directory and environment (exactly),
stdin a pipe with nothing to read, the runner's stdout and stderr, ``sys.argv`` as the launcher sets it, no
other file open; then it runs ipykernel's application with the same arguments. A fork shares no
memory with its siblings, so one notebook never sees another's variables.

What a child inherits that a fresh kernel would make anew: modules imported (their state as
imported, nothing run since), numpy's global generator (reseeded in the child) and Python's
string hash seed (the zygote's, shared by its kernels; a fresh kernel draws its own, unless
PYTHONHASHSEED is set, which the zygote then has too).

:class:`ForkedProvisioner` is the jupyter_client provisioner that launches a kernel this way and
falls back to the normal launch (a new ``python`` process) whenever it cannot: no ``os.fork``
(Windows), a kernel command that is not ``<python> -m ipykernel_launcher``, redirected standard
streams, or a zygote that could not start (its reason is logged once). A zygote serves the
kernels of one python, working directory, environment and warm-up code (its :func:`key`):
imports read the environment (OMP_NUM_THREADS, MPLBACKEND, PYTHONPATH, ipykernel's
JPY_PARENT_PID), so a kernel asked for with another one gets a zygote started with that one.
One zygote at a time per runner process; it ends when the runner ends.
"""

from __future__ import annotations

import atexit
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Any

from jupyter_client.provisioning import LocalProvisioner

from dbmarketing import messages

SERVER = pathlib.Path(__file__).with_name("zygote_server.py")
_MESSAGE = 1 << 20
START_TIMEOUT = 180  # seconds to import ipykernel and the workbook, on a machine busy with other work
REPLY_TIMEOUT = 60

# Set by pytest for every phase of every test and read by nothing a kernel imports: not part of
# the key, or the zygote of a test process would be started again for every test.
NOT_KEYED = ("PYTEST_CURRENT_TEST",)


class ZygoteError(RuntimeError):
    """The zygote could not start, or does not answer."""


def key(python: str, cwd: str, env: dict[str, str], warm: str) -> tuple:
    return python, cwd, warm, tuple(sorted((k, v) for k, v in env.items() if k not in NOT_KEYED))


class Zygote:
    """The runner's end of one zygote process (:mod:`.zygote_server`)."""

    def __init__(self, python: str, cwd: str, env: dict[str, str], warm: str):
        self.key = key(python, cwd, env, warm)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            # its own session: a Ctrl-C at the terminal is the runner's to handle, as for a kernel;
            # its output is nobody's (a kernel started ahead drops its import warnings too)
            self.process = subprocess.Popen([python, str(SERVER), str(theirs.fileno())], pass_fds=[theirs.fileno()],
                                            cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL, start_new_session=True)
        finally:
            theirs.close()
        self.sock = ours
        self.lock = threading.Lock()
        try:
            reply = self._ask({"warm": warm}, timeout=START_TIMEOUT)
        except BaseException:
            self.close()
            raise
        if "ready" not in reply:
            self.close()
            raise ZygoteError(f"the zygote could not import the workbook:\n{reply.get('error')}")
        self.pid = reply["ready"]

    def _ask(self, request: dict, fds: list[int] = (), timeout: float = REPLY_TIMEOUT) -> dict:
        with self.lock:
            self.sock.settimeout(timeout)
            try:
                socket.send_fds(self.sock, [json.dumps(request).encode()], list(fds))
                answer = self.sock.recv(_MESSAGE)
            except (OSError, socket.timeout) as exc:
                raise ZygoteError(f"the zygote does not answer: {type(exc).__name__}: {exc}") from exc
        if not answer:
            raise ZygoteError(f"the zygote ended (exit code {self.process.poll()})")
        return json.loads(answer)

    def spawn(self, args: list[str], env: dict[str, str], cwd: str, stdout: int = 1, stderr: int = 2) -> "ForkedProcess":
        """A kernel as ``<python> -m ipykernel_launcher *args`` would start, in ``cwd`` with ``env``,
        writing to the file descriptors ``stdout`` and ``stderr``."""
        reply = self._ask({"spawn": {"args": args, "env": env, "cwd": cwd}}, fds=[stdout, stderr])
        if "pid" not in reply:
            if reply.get("errno") is not None:  # what Popen raises for the same cause (a missing cwd)
                raise OSError(reply["errno"], reply["error"])
            raise ZygoteError(f"the zygote could not fork a kernel: {reply.get('error')}")
        return ForkedProcess(self, reply["pid"])

    def poll(self, pid: int) -> int | None:
        reply = self._ask({"poll": pid})
        if "error" in reply:
            raise ZygoteError(reply["error"])
        return reply["code"]

    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self) -> None:
        """Ends the zygote (its socket closed, it exits); running kernels are their managers'."""
        self.sock.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class ForkedProcess:
    """A kernel forked by a zygote, with the part of :class:`subprocess.Popen` that
    jupyter_client's LocalProvisioner uses (it is not this process's child: the zygote reaps it)."""

    stdin = stdout = stderr = None

    def __init__(self, zygote: Zygote, pid: int):
        self.zygote, self.pid, self.returncode = zygote, pid, None

    def poll(self) -> int | None:
        if self.returncode is None:
            if self.zygote.alive():
                self.returncode = self.zygote.poll(self.pid)
            else:  # killed with its zygote's reaper gone: init reaps it, and its exit code is lost
                try:
                    os.kill(self.pid, 0)
                except ProcessLookupError:
                    self.returncode = -signal.SIGKILL
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout)
            time.sleep(0.02)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:  # not reaped: the process id is still this kernel's
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


_lock = threading.Lock()
_zygote: Zygote | None = None
_failed: set[tuple] = set()  # keys whose zygote could not start: not tried again


def _zygote_for(python: str, cwd: str, env: dict[str, str], warm: str) -> Zygote | None:
    global _zygote
    wanted = key(python, cwd, env, warm)
    with _lock:
        if _zygote is not None and (_zygote.key != wanted or not _zygote.alive()):
            _zygote.close()
            _zygote = None
        if _zygote is None and wanted not in _failed:
            try:
                _zygote = Zygote(python, cwd, env, warm)
            except (ZygoteError, OSError) as exc:
                _failed.add(wanted)
                messages.log(f"kernels are started as new processes (no zygote): {messages.one_line(exc, 300)}")
        return _zygote


def shutdown() -> None:
    """Ends the zygote (at exit; a test that wants none running)."""
    global _zygote
    with _lock:
        if _zygote is not None:
            _zygote.close()
            _zygote = None


atexit.register(shutdown)


def fork_kernel(cmd: list[str], kwargs: dict[str, Any], warm: str) -> ForkedProcess | None:
    """The kernel ``cmd`` would start, forked from a zygote; None when it cannot be (see the module)."""
    if not hasattr(os, "fork") or sys.platform == "win32":
        return None
    if len(cmd) < 3 or cmd[1:3] != ["-m", "ipykernel_launcher"]:
        return None
    if any(value is not None for name, value in kwargs.items() if name not in ("env", "cwd", "independent")):
        return None  # redirected stdin/stdout/stderr, or a Popen option the zygote does not know
    if kwargs.get("independent"):
        return None
    env = dict(kwargs["env"] if kwargs.get("env") is not None else os.environ)
    env["JPY_PARENT_PID"] = str(os.getpid())  # as jupyter_client's launcher sets it for a kernel it launches
    cwd = str(kwargs.get("cwd") or os.getcwd())
    zygote = _zygote_for(cmd[0], cwd, env, warm)
    if zygote is None:
        return None
    return zygote.spawn(cmd[3:], env, cwd)


class ForkedProvisioner(LocalProvisioner):
    """jupyter_client's local provisioner, whose kernel is forked from a zygote when it can be
    (:func:`fork_kernel`), else launched as LocalProvisioner launches it."""

    warm = ""  # the zygote's warm-up code: set by whoever makes the provisioner

    async def launch_kernel(self, cmd: list[str], **kwargs: Any):
        process = fork_kernel(cmd, LocalProvisioner._scrub_kwargs(kwargs), self.warm)
        if process is None:
            return await super().launch_kernel(cmd, **kwargs)
        self.process = process
        self.pid = self.pgid = process.pid  # the kernel leads its own session and process group
        self.cwd = kwargs.get("cwd", pathlib.Path.cwd())
        return self.connection_info
