"""Freed memory kept in the process (glibc): a large array freed and made again reuses the same memory
instead of handing it back to the system and faulting it in anew."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cfexplorer.core import memory

# In a fresh process, as a process's start would: resident memory before, after 64 MB touched, after it is freed.
FREE_AND_COUNT = textwrap.dedent("""
    import json, sys
    import numpy as np
    from cfexplorer.core.memory import keep_freed_memory, return_freed_memory

    def resident_mb():
        for line in open("/proc/self/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024

    kept = keep_freed_memory() if sys.argv[1] == "keep" else False
    before = resident_mb()
    block = np.ones(2**23)  # 64 MB, every page touched
    touched = resident_mb()
    del block
    freed = resident_mb()
    returned = return_freed_memory()
    print(json.dumps({"kept": kept, "before": before, "touched": touched, "freed": freed,
                      "returned": returned, "after_return": resident_mb()}))
""")


def resident_after_freeing(mode: str) -> dict:
    result = subprocess.run([sys.executable, "-c", FREE_AND_COUNT, mode], capture_output=True, text=True,
                            timeout=60, cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux") or not Path("/proc/self/status").exists(),
                    reason="glibc's malloc and /proc")
def test_freed_memory_stays_in_the_process_only_when_asked():
    default = resident_after_freeing("default")
    kept = resident_after_freeing("keep")
    if not kept["kept"]:
        pytest.skip("the C library is not glibc")
    for run in (default, kept):
        assert run["touched"] - run["before"] > 60  # the 64 MB were touched
    assert default["touched"] - default["freed"] > 60  # handed back to the system at once
    assert kept["touched"] - kept["freed"] < 4  # kept for the next large array
    assert not default["returned"]  # nothing was kept: nothing to hand back
    assert kept["returned"] and kept["freed"] - kept["after_return"] > 60  # handed back when asked


def test_keeping_is_said_and_safe_to_ask_twice():
    first = memory.keep_freed_memory()
    assert memory.keep_freed_memory() == first == memory.freed_memory_kept()


def test_what_is_kept_is_an_eighth_of_the_memory_at_most_2_gb(monkeypatch):
    pages = {"SC_PAGE_SIZE": 4096}
    monkeypatch.setattr(memory.os, "sysconf", lambda name: pages[name])
    pages["SC_PHYS_PAGES"] = 4 * 2**30 // 4096  # 4 GB
    assert memory.kept_bytes() == 2**29
    pages["SC_PHYS_PAGES"] = 64 * 2**30 // 4096
    assert memory.kept_bytes() == 2**31 - 1
