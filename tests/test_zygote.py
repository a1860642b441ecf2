"""Kernels forked from a zygote (reports.zygote): each a fresh kernel of its own, in the requested
working directory and environment; a dead one seen as dead; the normal launch whenever there is
no zygote."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from jupyter_client.manager import AsyncKernelManager

from dbmarketing.reports import kernels, zygote

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="kernels are forked on POSIX only")

# the runner's warm-up first, in the forked kernel as in the fresh one (imports may open files);
# the files open by their kind (a socket, a pipe, a file's path), the listing's own left out
SHOW = (kernels.WARM_IMPORTS + "\nimport json, os, sys, numpy\n"
        "print(json.dumps({'pid': os.getpid(), 'cwd': os.getcwd(), 'env': dict(os.environ), 'argv': sys.argv,"
        " 'path': sys.path, 'planted': 'planted' in globals(), 'draw': numpy.random.random(),"
        " 'stdin': sys.stdin.read(), 'fds': sorted(os.readlink(p).split('[')[0] for p in [f'/proc/self/fd/{f}' for f in os.listdir('/proc/self/fd')] if os.path.lexists(p))}))\n"
        "planted = 1")


async def _start(cwd, env=None, manager=kernels._Kernel):
    km = manager(kernel_name="python3")
    await km.start_kernel(cwd=str(cwd), extra_arguments=["--IPKernelApp.log_level=CRITICAL", "--HistoryManager.hist_file=:memory:"],
                          **({} if env is None else {"env": env}))
    return km


async def _run(km, code: str) -> tuple[dict, str]:
    """The reply's content and what the cell printed."""
    import json

    printed = []
    kc = km.client()
    kc.start_channels()
    try:
        await kc.wait_for_ready(timeout=60)
        reply = await kc.execute_interactive(
            code, timeout=60, output_hook=lambda m: printed.append(m["content"].get("text", "")) if m["msg_type"] == "stream" else None)
    finally:
        kc.stop_channels()
    text = "".join(printed)
    return reply["content"], (json.loads(text) if text.startswith("{") else text)


def run_cells(cwd, *codes, env=None, manager=kernels._Kernel) -> list[tuple[dict, object, object]]:
    """Each code in a kernel of its own: (reply, printed, the kernel's process handle)."""
    async def go():
        out = []
        for code in codes:
            km = await _start(cwd, env, manager)
            try:
                out.append((*await _run(km, code), km.provisioner.process))
            finally:
                await km.shutdown_kernel(now=True)
        return out
    return asyncio.run(go())


@pytest.fixture
def no_zygote():
    zygote.shutdown()
    zygote._failed.clear()
    yield
    zygote.shutdown()


def test_forked_kernels_run_in_the_requested_folder_and_environment_and_share_nothing(tmp_path, no_zygote):
    env = dict(os.environ, DBM_PLANTED="forty-two")
    (first, one, p1), (second, two, p2) = run_cells(tmp_path, SHOW, SHOW, env=env)
    assert first["status"] == second["status"] == "ok"
    assert isinstance(p1, zygote.ForkedProcess) and isinstance(p2, zygote.ForkedProcess)
    assert one["pid"] != two["pid"]
    assert one["cwd"] == two["cwd"] == str(tmp_path)
    # what a kernel launched as a new process has: the same environment, arguments, path, open files
    [(_, fresh, process)] = run_cells(tmp_path, SHOW, env=env, manager=AsyncKernelManager)
    assert isinstance(process, subprocess.Popen)
    assert one["env"] == fresh["env"]
    assert one["argv"][:2] == fresh["argv"][:2] and one["argv"][3:] == fresh["argv"][3:]  # [2]: its connection file
    assert one["path"] == fresh["path"]
    assert one["fds"] == fresh["fds"], (one["fds"], fresh["fds"])
    assert one["stdin"] == fresh["stdin"] == ""  # nothing to read
    assert not one["planted"] and not two["planted"]  # the first kernel's variable is not the second's
    assert one["draw"] != two["draw"]  # numpy reseeded: not the zygote's generator copied
    assert p1.returncode is not None and p2.returncode is not None  # shut down and reaped


def test_a_kernel_that_dies_is_seen_dead_with_its_exit_code(tmp_path, no_zygote):
    async def go():
        km = await _start(tmp_path)
        try:
            assert isinstance(km.provisioner.process, zygote.ForkedProcess)
            assert await km.is_alive()
            kc = km.client()
            kc.start_channels()
            await kc.wait_for_ready(timeout=60)
            kc.execute("import os; os._exit(3)")
            km.close_clients()
            for _ in range(200):
                if not await km.is_alive():
                    break
                await asyncio.sleep(0.05)
            return await km.is_alive(), km.provisioner.process.returncode
        finally:
            await km.shutdown_kernel(now=True)
    assert asyncio.run(go()) == (False, 3)


def test_a_missing_folder_fails_as_popen_fails(tmp_path, no_zygote):
    with pytest.raises(FileNotFoundError):
        run_cells(tmp_path / "no_such_folder", "1")


def test_another_environment_gets_a_zygote_started_with_it(tmp_path, no_zygote):
    code = "import os, numpy; print(os.environ['OMP_NUM_THREADS'], os.getppid())"
    [(_, one, _)] = run_cells(tmp_path, code, env=dict(os.environ, OMP_NUM_THREADS="1"))
    [(_, two, _)] = run_cells(tmp_path, code, env=dict(os.environ, OMP_NUM_THREADS="2"))
    assert one.split()[0] == "1" and two.split()[0] == "2"
    assert one.split()[1] != two.split()[1]  # each from its own zygote


def test_without_a_zygote_the_kernel_is_launched_as_a_new_process(tmp_path, no_zygote, monkeypatch):
    monkeypatch.setattr(kernels, "WARM_IMPORTS", "raise ValueError('planted warm-up failure')")
    [(reply, printed, process)] = run_cells(tmp_path, "print(6 * 7)")
    assert reply["status"] == "ok" and printed.strip() == "42"
    assert isinstance(process, subprocess.Popen)
    assert zygote._zygote is None and len(zygote._failed) == 1  # not tried again for the next kernel


def test_a_command_that_is_not_ipykernel_is_launched_as_given(tmp_path, no_zygote):
    assert zygote.fork_kernel([sys.executable, "-c", "print(1)"], {"cwd": str(tmp_path)}, "") is None
    assert zygote.fork_kernel([sys.executable, "-m", "ipykernel_launcher"], {"stdout": subprocess.PIPE}, "") is None
    assert zygote._zygote is None  # nothing was started for them


def test_the_zygote_ends_with_its_runner(tmp_path):
    """A runner that is killed leaves no zygote behind (it sees its socket close)."""
    script = ("import os, sys; from dbmarketing.reports import zygote\n"
              f"z = zygote.Zygote(sys.executable, {str(tmp_path)!r}, dict(os.environ), 'import json')\n"
              "print(z.process.pid, flush=True); os.kill(os.getpid(), 9)")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    pid = int(run.stdout.split()[0])
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] if Path(f"/proc/{pid}").exists() else "X"
        if state == "Z":
            break
        import time

        time.sleep(0.1)
    else:
        pytest.fail(f"the zygote {pid} still runs after its runner was killed")
