"""The zygote itself: a process that imports ipykernel and the workbook once, then forks a kernel
per request (the other side, and why, is :mod:`dbmarketing.reports.zygote`).

It is run as a script (``python zygote_server.py FD``), not as a module of the package: a kernel
started by ``python -m ipykernel_launcher`` has not imported the package's report runner
(papermill, nbconvert and the warnings filters they set), so neither may its zygote. It imports
only the standard library before the warm-up code it is sent.

The protocol, over the SOCK_SEQPACKET socket FD (one JSON message per packet):

- first ``{"warm": code}``; the answer ``{"ready": pid}`` once ipykernel and ``code`` are imported,
  or ``{"error": traceback}`` (the zygote then ends);
- ``{"spawn": {"args", "env", "cwd"}}`` with the kernel's stdout and stderr as two file
  descriptors: a child is forked, in a session of its own, in ``cwd``, with exactly ``env``, stdin
  a pipe with nothing to read, every other descriptor closed and ``sys.argv`` as ``python -m ipykernel_launcher
  *args`` would have them (as Popen would start it), and then runs ipykernel's application on ``args``; the answer ``{"pid": pid}``, or ``{"errno", "error"}``
  when the child could not be set up (a missing ``cwd``: Popen's error);
- ``{"poll": pid}``: ``{"code": None}`` while the kernel runs, else its exit code as Popen gives it
  (``-N`` for signal N). Only the kernel asked about is reaped: until then its process id stays
  taken (a zombie), so a signal sent to it cannot reach another process.

The zygote ends when the socket closes (the runner ended, however it ended); its kernels each
end when it is gone, as a kernel ends when the process that launched it is gone.
"""

import json
import os
import socket
import sys
import threading
import traceback

_MESSAGE = 1 << 20  # an environment is a few kB; a packet of a SOCK_SEQPACKET socket arrives whole
_LAUNCHER = None  # the file of the module ipykernel_launcher: a kernel's sys.argv[0]


def _send(sock, message: dict) -> None:
    sock.send(json.dumps(message).encode())


def _warm_up(code: str) -> None:
    # As ipykernel does at start, before any notebook code (IPKernelApp.init_gui_pylab): matplotlib
    # reads MPLBACKEND when it is imported, so the zygote's import must see what a kernel's would.
    if not os.environ.get("MPLBACKEND"):
        os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    global _LAUNCHER
    import importlib.util

    import ipykernel.kernelapp  # noqa: F401  (the kernel's own modules: most of its start)

    _LAUNCHER = importlib.util.find_spec("ipykernel_launcher").origin

    exec(compile(code, "<warm imports>", "exec"), {"__name__": "__warm__"})
    # A thread would not be copied into a child and could hold a lock the child then waits for
    # forever: the warm-up must not have started one.
    if threading.active_count() != 1:
        raise RuntimeError(f"the warm-up started threads ({threading.enumerate()}): forking would be unsafe")


def _child(request: dict, fds: list[int], ready_w: int) -> None:
    """In the forked child: become the process Popen would have started (see the module)."""
    os.setsid()
    os.chdir(request["cwd"])
    stdin, writer = os.pipe()  # as jupyter_client's launcher gives it: a pipe whose writer is closed
    os.close(writer)
    os.dup2(stdin, 0)
    os.dup2(fds[0], 1)
    os.dup2(fds[1], 2)
    os.closerange(3, ready_w)
    os.closerange(ready_w + 1, os.sysconf("SC_OPEN_MAX"))
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = [_LAUNCHER, *request["args"]]


def serve(sock) -> dict | None:
    """Answer requests until the socket closes (returns None) or, in a forked child, return the
    request the child is to run as a kernel."""
    running: set[int] = set()  # the children not yet reaped
    while True:
        message, fds, _flags, _addr = socket.recv_fds(sock, _MESSAGE, 2)
        if not message:
            return None
        request = json.loads(message)
        if "spawn" in request:
            sys.stdout.flush()
            sys.stderr.flush()
            ready_r, ready_w = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(ready_r)
                sock.close()
                try:
                    _child(request["spawn"], fds, ready_w)
                except OSError as exc:
                    os.write(ready_w, json.dumps({"errno": exc.errno, "error": str(exc)}).encode())
                    os._exit(1)
                except BaseException:
                    os.write(ready_w, json.dumps({"errno": None, "error": traceback.format_exc()}).encode())
                    os._exit(1)
                os.close(ready_w)  # the parent's read ends: the child is set up
                return request["spawn"]
            os.close(ready_w)
            for fd in fds:
                os.close(fd)
            failed = b""
            while chunk := os.read(ready_r, 65536):
                failed += chunk
            os.close(ready_r)
            if failed:
                os.waitpid(pid, 0)
                _send(sock, json.loads(failed))
            else:
                running.add(pid)
                _send(sock, {"pid": pid})
        elif "poll" in request:
            pid = request["poll"]
            if pid not in running:
                _send(sock, {"error": f"process {pid} is no kernel of this zygote, or was reaped"})
                continue
            reaped, status = os.waitpid(pid, os.WNOHANG)
            if reaped:
                running.discard(pid)
            _send(sock, {"code": os.waitstatus_to_exitcode(status) if reaped else None})
        else:
            _send(sock, {"error": f"unknown request {sorted(request)}"})


def run_kernel(request: dict) -> None:
    """The forked child's life: a fresh kernel's, from the point its imports are done."""
    import numpy

    # numpy's global generator was seeded from the OS when the zygote imported numpy, and a fork
    # copies it: every kernel would draw the same numbers. A fresh kernel seeds its own
    # (Python's random module is reseeded in a forked child by Python itself).
    numpy.random.seed()
    from ipykernel import kernelapp

    # The kernel ends when its parent ends (ipykernel's parent poller): its parent is the zygote,
    # which ends with the runner.
    kernelapp.launch_new_instance(argv=list(request["args"]) + [f"--IPKernelApp.parent_handle={os.getppid()}"])


def main() -> None:
    sock = socket.socket(fileno=int(sys.argv[1]))
    request = json.loads(sock.recv(_MESSAGE))
    try:
        _warm_up(request["warm"])
    except BaseException:
        _send(sock, {"error": traceback.format_exc()})
        raise SystemExit(1)
    _send(sock, {"ready": os.getpid()})
    kernel = serve(sock)
    if kernel is not None:  # in a forked child
        run_kernel(kernel)


if __name__ == "__main__":
    # The script's folder is not a kernel's: a kernel started by `python -m ipykernel_launcher`
    # has neither it nor the working directory on sys.path while it imports (ipykernel_launcher
    # removes the latter; the shell puts '' back when it starts).
    del sys.path[0]
    main()
