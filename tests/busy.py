"""Processes that keep the CPU busy: the suite's ``--busy-cpu`` option and ``busy_cpu`` fixture (conftest.py)
and the benchmarks' busy variants (benchmarks/common.py) spin the same way, from here."""

import contextlib
import os
import subprocess
import sys

# Spins until stopped or until the process that started it dies: a run killed outright left its spinners
# running for good, and every measurement after it was of a machine with two more cores' worth of load. Its
# parent is named on its command line: one killed before the spinner had started would leave it spinning.
SPINNER = "import os, sys\nparent = int(sys.argv[1])\nwhile os.getppid() == parent:\n    for _ in range(10**6): pass\n"


def start_spinners(count: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", SPINNER, str(os.getpid())]) for _ in range(count)]


def stop_spinners(spinners) -> None:
    for spinner in spinners:
        spinner.kill()
    for spinner in spinners:
        spinner.wait()


@contextlib.contextmanager
def busy_processes(count: int):
    """``count`` processes spinning on the CPU while the block runs (none for 0)."""
    spinners = start_spinners(count)
    try:
        yield spinners
    finally:
        stop_spinners(spinners)
