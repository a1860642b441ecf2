"""Kernels started ahead: the next notebook's kernel starts while this one runs.

A report run executes its notebooks one after the other, each in a kernel of its own (a
notebook never sees another's variables). Starting a kernel and importing the workbook takes
about 3 seconds, which is most of a small notebook's time; on a machine with a second core it
can happen while the previous notebook runs. :class:`KernelsAhead` keeps one kernel ready: it
is started in a background thread with the run's working directory and arguments, imports the
modules every notebook imports (:data:`WARM_IMPORTS`: importing is all it does, so the
notebook starts from the same state as in a kernel of its own), and is handed to papermill.
Each kernel serves one notebook and is shut down after it. When a kernel cannot be started
ahead, the notebook gets none and papermill starts its own, so its error is papermill's.

Where it can (POSIX), a kernel started ahead is forked from a zygote that imported ipykernel and
:data:`WARM_IMPORTS` once for the whole run (:mod:`.zygote`): the imports then cost nothing per
notebook, and the warm-up above only checks that they are there.
"""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import Future, ThreadPoolExecutor

from jupyter_client.manager import AsyncKernelManager

from .zygote import ForkedProvisioner

# What the numbered notebooks import in their setup cell (present.setup_notebook imports seaborn).
WARM_IMPORTS = ("import matplotlib.pyplot, numpy, pandas, seaborn\n"
                "from dbmarketing import (baskets, campaigns, cleanse, course, customers, events, ingest, present, "
                "privacy, prospects, rfm, warehouse)")


class _Kernel(AsyncKernelManager):
    """A kernel manager that remembers the clients made for it, to close them (papermill
    leaves a kernel it did not start running, and its client's channels open), and whose kernel
    is forked from the run's zygote when it can be (:class:`.zygote.ForkedProvisioner`)."""

    async def _async_pre_start_kernel(self, **kw):
        # jupyter_client makes the provisioner the kernel spec names (LocalProvisioner when it
        # names none) unless one is set: set ours, for a spec that names none
        if self.provisioner is None and not self.kernel_spec.metadata.get("kernel_provisioner"):
            self.kernel_id = self.kernel_id or kw.pop("kernel_id", str(uuid.uuid4()))
            self.provisioner = ForkedProvisioner(kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self)
            self.provisioner.warm = WARM_IMPORTS
        return await super()._async_pre_start_kernel(**kw)

    def client(self, **kwargs):
        kc = super().client(**kwargs)
        self.__dict__.setdefault("_clients", []).append(kc)
        return kc

    def close_clients(self) -> None:
        for kc in self.__dict__.pop("_clients", []):
            kc.stop_channels()

    def close(self) -> None:
        self.close_clients()
        if self.has_kernel:
            asyncio.run(self.shutdown_kernel(now=True))


def _start(kernel_name: str, cwd: str, extra_arguments: list[str]) -> _Kernel:
    async def start():
        km = _Kernel(kernel_name=kernel_name)
        await km.start_kernel(cwd=cwd, extra_arguments=list(extra_arguments))
        kc = km.client()
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=60)
            reply = await kc.execute_interactive(WARM_IMPORTS, store_history=False, timeout=120,
                                                 output_hook=lambda msg: None)  # its error is in the reply
            if reply["content"]["status"] != "ok":
                raise RuntimeError("the kernel started ahead could not import the workbook: "
                                   f"{reply['content'].get('evalue')}")
        except BaseException:  # not ready, or the imports failed: no kernel is left running
            km.close_clients()
            await km.shutdown_kernel(now=True)
            raise
        km.close_clients()
        return km

    return asyncio.run(start())


class KernelsAhead:
    """Hands out ``count`` kernels, one per notebook, each started while the previous ran.

    Use as a context manager; :meth:`take` returns the next kernel (or None when it could not
    be started: papermill then starts one), :meth:`done` shuts it down. Leaving the context
    shuts down a kernel started for a notebook that never ran (a run that failed)."""

    def __init__(self, count: int, kernel_name: str, cwd: str, extra_arguments: list[str]):
        self.left = count
        self.args = (kernel_name, cwd, list(extra_arguments))
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kernel-ahead")
        self.next: Future | None = None

    def __enter__(self) -> "KernelsAhead":
        self._start_next()
        return self

    def _start_next(self) -> None:
        self.next = self.pool.submit(_start, *self.args) if self.left > 0 else None
        self.left -= 1

    def take(self) -> _Kernel | None:
        ready, self.next = self.next, None
        self._start_next()
        try:
            return ready.result() if ready is not None else None
        except Exception:  # papermill starts the notebook's kernel and reports its error
            return None

    @staticmethod
    def done(km: _Kernel | None) -> None:
        if km is not None:
            km.close()

    def __exit__(self, *exc) -> None:
        if self.next is not None and self.next.exception() is None:  # waits for it to start
            self.next.result().close()
        self.pool.shutdown(wait=True)
