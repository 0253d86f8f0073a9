"""`pytest --busy-cpu=N` keeps N processes spinning for the whole machine, also when pytest-xdist runs the
tests in several worker processes (CI's second pass)."""

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]

COUNT_SPINNERS = """
import json, os
from pathlib import Path


def spinners_of(pid):
    found = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\\0")
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if parent == pid and command[1:2] == [b"-c"] and b"getppid" in command[2]:
            found += 1
    return found


def test_count(tmp_path_factory):
    report = {"worker": os.environ.get("PYTEST_XDIST_WORKER"), "of_this_worker": spinners_of(os.getpid()),
              "of_the_controller": spinners_of(os.getppid())}
    Path(os.environ["SPINNER_REPORT"]).write_text(json.dumps(report))
"""


def nested_pytest(tmp_path, arguments: list, report_variable: str):
    """Run pytest on the tests written in ``tmp_path`` with this project's conftest (its options and hooks) and
    ``arguments``; what the nested test wrote to the file named by ``report_variable``, as JSON."""
    report = tmp_path / "report.json"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:pytestqt", "-p",
               "no:hypothesispytest", "-p", "no:benchmark", "-c", os.devnull, "--rootdir", str(tmp_path), "-p",
               "tests.conftest", *arguments]
    # Without this run's own worker name (when it runs in one), which the nested run would inherit.
    environment = {name: value for name, value in os.environ.items() if name != "PYTEST_XDIST_WORKER"}
    result = subprocess.run(command, cwd=PROJECT, capture_output=True, text=True, timeout=120,
                            env={**environment, report_variable: str(report)})
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(report.read_text())


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="counts processes through /proc")
def test_busy_cpu_spins_its_processes_once_for_all_workers(tmp_path):
    (tmp_path / "test_count_spinners.py").write_text(textwrap.dedent(COUNT_SPINNERS))
    counted = nested_pytest(tmp_path, ["-n", "1", "--busy-cpu=2", str(tmp_path)], "SPINNER_REPORT")
    assert counted["worker"] is not None  # the test ran in one of xdist's workers
    assert counted == {"worker": counted["worker"], "of_this_worker": 0, "of_the_controller": 2}


WHICH_PROCESS = """
import json, os
from pathlib import Path


def test_where(tmp_path_factory):
    Path(os.environ["WORKER_REPORT"]).write_text(json.dumps(os.environ.get("PYTEST_XDIST_WORKER")))
"""


@pytest.mark.parametrize("one_by_one", [True, False])
def test_tests_named_one_by_one_run_without_worker_processes(tmp_path, one_by_one):
    (tmp_path / "test_where.py").write_text(textwrap.dedent(WHICH_PROCESS))
    target = str(tmp_path / "test_where.py") + ("::test_where" if one_by_one else "")
    worker = nested_pytest(tmp_path, ["--numprocesses=auto", target], "WORKER_REPORT")
    assert (worker is None) == one_by_one, worker


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="looks processes up in /proc")
def test_spinners_stop_when_the_run_that_started_them_is_killed():
    """A run killed outright (a CI timeout, kill -9) must not leave its spinners loading the machine for good."""
    starter = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""
        import sys, time
        from tests.busy import start_spinners
        print(start_spinners(1)[0].pid, flush=True)
        time.sleep(60)
    """)], cwd=PROJECT, stdout=subprocess.PIPE, text=True)
    try:
        spinner = Path("/proc") / starter.stdout.readline().strip()
        assert spinner.exists()
    finally:
        starter.kill()
        starter.wait()
    deadline = time.monotonic() + 30
    while spinner.exists() and b"Z" not in (spinner / "stat").read_bytes()[:60] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not spinner.exists() or (spinner / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
