"""How many threads numpy's and scipy's BLAS may use: chosen once, by :func:`choose_blas_threads`, at
every entry point (the app, ``cfexplorer train``, :func:`cfexplorer.core.compare.compare`, the benchmarks).

One thread, unless ``CFEXPLORER_BLAS_THREADS`` says otherwise. Every model here makes many small BLAS
calls (17 x 17 systems, 512-row mini-batches), where a pool of threads spins waiting for work instead
of doing it: on MovieLens latest-small with two cores, `cfexplorer train --model neural` took 54 s with
OpenBLAS's default pool and 11-12 s with one thread, content-based 101-118 s against 7-9 s, and any
other busy process made the pool 4.5-13 times slower still (issue #18; benchmarks/bench_load.py). In the
app a second reason holds: a small BLAS call in the GUI thread (the factor space's PCA) waits for the
training thread's pool (95-180 ms instead of 3 ms).
"""

from __future__ import annotations

import os
import warnings

ENVIRONMENT_VARIABLE = "CFEXPLORER_BLAS_THREADS"
DEFAULT_BLAS_THREADS = 1
# Read by OpenBLAS, MKL and BLIS when they load: a BLAS loaded later (scipy.linalg's own OpenBLAS,
# imported lazily) and any child process start with the same choice.
_LIBRARY_VARIABLES = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")


def blas_threads_wanted() -> int:
    """The number of BLAS threads this process should use: ``CFEXPLORER_BLAS_THREADS`` or 1."""
    text = os.environ.get(ENVIRONMENT_VARIABLE, "").strip()
    if not text:
        return DEFAULT_BLAS_THREADS
    try:
        threads = int(text)
    except ValueError:
        threads = 0
    if threads < 1:
        warnings.warn(f"{ENVIRONMENT_VARIABLE}={text!r} is not a whole number >= 1; using "
                      f"{DEFAULT_BLAS_THREADS} BLAS thread", RuntimeWarning, stacklevel=2)
        return DEFAULT_BLAS_THREADS
    return threads


def choose_blas_threads() -> int:
    """Limit every BLAS loaded now or later in this process to :func:`blas_threads_wanted` threads.

    Safe to call more than once (each entry point does); returns the number of threads."""
    threads = blas_threads_wanted()
    for name in _LIBRARY_VARIABLES:
        os.environ[name] = str(threads)
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=threads, user_api="blas")
    return threads
