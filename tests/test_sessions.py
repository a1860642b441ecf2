"""Sharing the database: a notebook holds it only while a step uses it (warehouse.Session).

DuckDB lets one process write a file or several read it, not both. These tests use real
processes: a Jupyter kernel, as JupyterLab runs a notebook, and plain Python processes, as
the scheduled run is."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest

from dbmarketing import warehouse

WRITE = "import sys; from dbmarketing import warehouse; c = warehouse.connect(sys.argv[1], wait=float(sys.argv[2])); " \
        "c.execute('CREATE OR REPLACE TABLE main.t AS SELECT 2 AS a'); c.close(); print('written')"


def write_from_another_process(path, wait=0.5) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", WRITE, str(path), str(wait)], capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def database(tmp_path):
    path = tmp_path / "crm.duckdb"
    con = warehouse.connect(path)
    con.execute("CREATE TABLE main.t AS SELECT 1 AS a")
    con.close()
    return path


def test_a_session_reads_read_only_and_writes_only_inside_a_writing_step(database):
    con = warehouse.Session(database)
    assert con.execute("SELECT a FROM main.t").fetchall() == [(1,)]
    with pytest.raises(Exception, match="read-only"):
        con.execute("INSERT INTO main.t VALUES (3)")
    # while it reads, the other process cannot write: it waits, then says who holds the file, in one line
    busy = write_from_another_process(database)
    assert busy.returncode == 1
    line = busy.stderr.strip().splitlines()[-1]
    assert f"is in use by process {__import__('os').getpid()}" in line and "waited 0.5 s" in line
    con.release()
    assert write_from_another_process(database).stdout.strip() == "written"
    with con.writing():
        con.execute("INSERT INTO main.t VALUES (3)")
        with con.writing():  # nested steps share the outer one
            con.execute("INSERT INTO main.t VALUES (4)")
    assert write_from_another_process(database).stdout.strip() == "written"  # released after the step
    assert con.execute("SELECT count(*) FROM main.t").fetchall() == [(1,)]  # the other process replaced it
    con.close()


def test_a_writer_waits_for_a_step_to_end(database):
    con = warehouse.Session(database)
    con.execute("SELECT 1").fetchall()
    writer = subprocess.Popen([sys.executable, "-c", WRITE, str(database), "30"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    assert writer.poll() is None  # waiting for this process's read to end
    con.release()
    out, err = writer.communicate(timeout=60)
    assert out.strip() == "written", err


def test_a_notebook_kernel_holds_the_database_only_while_a_cell_or_a_widget_action_runs(database):
    """As in JupyterLab: a kernel with a session open (notebook 03 after Run All) does not stop
    another notebook or the scheduled run from writing, and its widgets still read afterwards."""
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3")
    try:
        def run(code):
            reply = kc.execute_interactive(textwrap.dedent(code), timeout=60)
            assert reply["content"]["status"] == "ok", reply["content"]

        run(f"""
            from dbmarketing import warehouse
            con = warehouse.Session({str(database)!r})
            rows = con.execute("SELECT a FROM main.t").fetchall()
            """)
        assert write_from_another_process(database).stdout.strip() == "written"  # the cell ended: released
        run("con.close()")  # a notebook's last cell
        # a widget action arrives after Run All: it runs outside any cell, reads, and lets go afterwards
        run("""
            import threading
            seen = []
            kernel = get_ipython().kernel
            kernel.io_loop.call_later(0.5, lambda: seen.append(con.execute("SELECT a FROM main.t").fetchall()))
            """)
        time.sleep(2.0)
        run("assert seen == [[(2,)]], seen")
        assert write_from_another_process(database).stdout.strip() == "written"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
