"""papermill's engine, writing the executed notebook when its execution ends, not at every cell.

papermill writes the whole notebook (copied, validated, as JSON) to its output file when each
cell starts and when it ends: some 60 writes a notebook, about 10 s of the runner's CPU for the
8 notebooks on ten customers, more with charts. Nothing reads the output while the notebook
runs; it is written once execution ends, however it ends (a failing cell, a kernel that died, a
timeout), as papermill's own engine does at that point.
"""

from __future__ import annotations

from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines

NAME = "dbmarketing"


class _WrittenWhenDone(NotebookExecutionManager):
    """papermill's bookkeeping of an execution, whose saves wait for the end of the execution."""

    done = False

    def save(self, **kwargs):
        if self.done:
            super().save(**kwargs)

    def notebook_complete(self, **kwargs):
        self.done = True
        super().notebook_complete(**kwargs)


class WrittenWhenDone(NBClientEngine):
    """papermill's nbclient engine with :class:`_WrittenWhenDone` as its bookkeeping."""

    @classmethod
    def execute_notebook(cls, nb, kernel_name, output_path=None, progress_bar=True, log_output=False,
                         autosave_cell_every=30, **kwargs):
        nb_man = _WrittenWhenDone(nb, output_path=output_path, progress_bar=progress_bar, log_output=log_output,
                                  autosave_cell_every=autosave_cell_every)
        nb_man.notebook_start()
        try:
            cls.execute_managed_notebook(nb_man, kernel_name, log_output=log_output, **kwargs)
        finally:  # as papermill's Engine.execute_notebook: the notebook is complete however execution ended
            nb_man.cleanup_pbar()
            nb_man.notebook_complete()
        return nb_man.nb


papermill_engines.register(NAME, WrittenWhenDone)
