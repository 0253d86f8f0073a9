"""Running an exported script in a fresh Python, fast: one Python imports the libraries once and forks a child
per script, which runs it as __main__ in its own folder (a fresh subprocess where there is no fork). The
fixtures ``script_runner`` and ``run_exported`` are offered to every test of tests/ui by its conftest."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Runs an exported script and prints what it ended with: final J, and every "?" cell it predicted.
RUNNER = """
import json, runpy, sys
names = runpy.run_path(sys.argv[1], run_name="__main__")
final = names["model"].history_[-1]
table = names["predictions"]
print("RESULT", json.dumps({"J": final.total, "data": final.data_term, "reg": final.reg_term,
                            "epochs": final.epoch,  # epochs trained (the history starts at epoch 0)
                            "cells": [[int(u), int(i), float(p)] for u, i, p in
                                      zip(table.user_index, table.movie_index, table.prediction)]}))
"""
# One Python for the module's scripts: it imports the libraries an exported script imports, then forks a
# child per script that runs RUNNER as a fresh Python would (its own directory, argv, stdout and stderr
# files). A fresh interpreter per script spent 1-2 s of CPU importing them, 3-7 s a test on a loaded machine.
FORK_SERVER = """
import os, sys
import numpy, pandas, scipy.sparse
import cfexplorer.api
try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot
except ImportError:
    pass
runner = compile(sys.argv[1], "<runner>", "exec")
for line in sys.stdin:
    script, output, errors = line.rstrip("\\n").split("\\t")
    sys.stdout.flush()
    child = os.fork()
    if child == 0:
        code = 1
        try:
            with open(output, "w") as out, open(errors, "w") as err:
                os.dup2(out.fileno(), 1)
                os.dup2(err.fileno(), 2)
                os.chdir(os.path.dirname(script))
                sys.argv = ["-c", script]
                try:
                    exec(runner, {"__name__": "__main__"})
                    code = 0
                except BaseException:
                    import traceback
                    traceback.print_exc()
                sys.stdout.flush()
                sys.stderr.flush()
        finally:
            os._exit(code)
    print(os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]), flush=True)
"""


@pytest.fixture(scope="module")
def script_runner():
    """run(path) -> (exit code, stdout, stderr) of RUNNER on an exported script, in a fresh Python."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    if not hasattr(os, "fork"):
        def run_fresh(path: Path):
            done = subprocess.run([sys.executable, "-c", RUNNER, str(path)], cwd=path.parent, env=env,
                                  capture_output=True, text=True, timeout=120)
            return done.returncode, done.stdout, done.stderr
        yield run_fresh
        return
    server = subprocess.Popen([sys.executable, "-c", FORK_SERVER, RUNNER], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, env=env, text=True)

    def run_forked(path: Path):
        output, errors = path.with_suffix(".stdout"), path.with_suffix(".stderr")
        server.stdin.write(f"{path}\t{output}\t{errors}\n")
        server.stdin.flush()
        code = server.stdout.readline()
        assert code, "the script runner ended"
        return int(code), output.read_text(), errors.read_text()

    try:
        yield run_forked
    finally:
        server.stdin.close()
        server.wait(30)


@pytest.fixture
def run_exported(script_runner):
    def run(path: Path) -> dict:
        code, output, errors = script_runner(path)
        assert code == 0, errors[-3000:]
        line = [text for text in output.splitlines() if text.startswith("RESULT ")][-1]
        return json.loads(line[len("RESULT "):])

    return run


