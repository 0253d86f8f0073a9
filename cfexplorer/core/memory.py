"""Freed memory kept in the process for its next use, where the C library allows it (glibc's malloc).

glibc hands every large block (over its mmap threshold, at most 32 MB) back to the operating system when it
is freed, and asks for fresh memory at the next allocation. Reading MovieLens 25M's shape and training on it
allocate and free arrays of hundreds of MB at every step. On a virtual machine, memory the system hands out
anew is slow to touch (an 80 MB array filled in 0.11 s, against 0.013 s for one reused in the process); and,
a guess not verified, giving it back takes the process's memory-map lock, which the GUI thread's own page
faults then wait for.
Measured with benchmarks/bench_25m.py (two runs each way, see the README): the open took 5.7-5.9 s instead
of 6.7-9.9 s, a training run 27-30 s instead of 30-37 s, the peak 3.9 GB instead of 4.0-4.5 GB, and the
median run's longest stall with the loss curves in front 35-42 ms instead of 58-123 ms.

Kept means: large blocks come from the heap rather than from their own memory maps, one heap (arena) serves
every thread (a thread's own arena maps large blocks anyway), and freed memory up to :func:`kept_bytes`
(an eighth of the machine's memory, at most 2 GB) stays in the process. The cost: after a large file, the
process stays near the size it peaked at, until :func:`return_freed_memory` hands back what is free (the window
calls it when it has switched to another document: 15 ms for 1.5 GB here).
:func:`keep_freed_memory` is called once by each entry point, as :func:`.threads.choose_blas_threads` is.
"""

from __future__ import annotations

import ctypes
import os
import sys

# mallopt's parameters (glibc's malloc.h)
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
M_ARENA_MAX = -8
# Freed memory at the heap's top beyond this is given back: an eighth of the machine's memory, at most 2 GB
# (mallopt takes an int).
MOST_KEPT_BYTES = 2**31 - 1
KEPT_SHARE_OF_MEMORY = 1 / 8

_kept = False
_libc = None


def keep_freed_memory() -> bool:
    """Tell glibc's malloc to keep freed memory for reuse; False (and nothing changed) where the C library is
    not glibc. Safe to call more than once."""
    global _kept, _libc
    if _kept:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # glibc's own: musl's mallopt accepts these and does nothing
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    settings = ((M_ARENA_MAX, 1), (M_MMAP_MAX, 0), (M_TRIM_THRESHOLD, kept_bytes()))
    _kept = all(mallopt(parameter, value) == 1 for parameter, value in settings)
    if _kept:
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        _libc = libc
    return _kept


def return_freed_memory() -> bool:
    """Hand the freed memory kept so far back to the system (glibc's malloc_trim); False where nothing was
    kept. For when what was kept for is gone: a large document closed or replaced."""
    if _libc is None:
        return False
    _libc.malloc_trim(0)
    return True


def kept_bytes() -> int:
    """How much freed memory may stay in the process: :data:`KEPT_SHARE_OF_MEMORY` of the machine's memory,
    at most :data:`MOST_KEPT_BYTES`."""
    try:
        memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return MOST_KEPT_BYTES
    return int(min(MOST_KEPT_BYTES, max(memory, 0) * KEPT_SHARE_OF_MEMORY))


def freed_memory_kept() -> bool:
    """Whether :func:`keep_freed_memory` took effect in this process."""
    return _kept


# --- how much memory is free -----------------------------------------------------------------------
# Where the operating system will not say how much memory is free.
FALLBACK_AVAILABLE = 2 * 2**30


def available_memory() -> int:
    """Bytes this process can still allocate without swapping: MemAvailable on Linux (and the
    cgroup's remaining limit, in a container), free physical memory on Windows, half the physical
    memory elsewhere, or a conservative 2 GiB when nothing can be asked."""
    available = _meminfo_available()
    if available is None:
        available = _windows_available() if sys.platform == "win32" else _half_physical()
    if available is None:
        available = FALLBACK_AVAILABLE
    cgroup = _cgroup_remaining()
    return min(available, cgroup) if cgroup is not None else available


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo", "rb") as meminfo:
            for line in meminfo:
                if line.startswith(b"MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cgroup_remaining() -> int | None:
    """The container's memory limit minus its use (cgroup v2, then v1), if there is a limit."""
    for limit_file, usage_file in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                                   ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                                    "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            with open(limit_file, "rb") as limit, open(usage_file, "rb") as usage:
                text = limit.read().strip()
                if text == b"max" or int(text) >= 2**60:  # "no limit", as v2 and v1 write it
                    return None
                return max(int(text) - int(usage.read().strip()), 0)
        except (OSError, ValueError):
            continue
    return None


def _half_physical() -> int | None:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2
    except (AttributeError, ValueError, OSError):
        return None


def _windows_available() -> int | None:
    try:
        import ctypes

        class MemoryStatus(ctypes.Structure):
            _fields_ = [("length", ctypes.c_ulong), ("load", ctypes.c_ulong), ("total_physical", ctypes.c_ulonglong),
                        ("available_physical", ctypes.c_ulonglong), ("total_page", ctypes.c_ulonglong),
                        ("available_page", ctypes.c_ulonglong), ("total_virtual", ctypes.c_ulonglong),
                        ("available_virtual", ctypes.c_ulonglong), ("extended", ctypes.c_ulonglong)]

        status = MemoryStatus()
        status.length = ctypes.sizeof(MemoryStatus)
        if ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):
            return int(status.available_physical)
    except (AttributeError, OSError, ImportError):
        pass
    return None


def describe_bytes(n: float) -> str:
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{int(n)} bytes"
