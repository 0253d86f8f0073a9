"""Every model's fit on MovieLens latest-small (80/20, seed 0) idle and beside one or two busy processes,
with BLAS on one thread (what every entry point chooses) and on OpenBLAS's default pool (one thread a
core: what `cfexplorer train` ran with before it chose).

Each fit runs in a fresh process (its time measured inside, imports left out), the busy processes are
plain Python loops, and the rounds interleave: round by round, each load level, each model, each BLAS
setting. A slowdown is a fit's time beside busy processes over the same model's idle time in the same
round; printed are its median and worst over the rounds, and the same relative to the slowdown of a
reference, a Python loop that uses one core and nothing else: on a machine that other work shares,
that reference's slowdown is the share of a core any one thread gets, which no setting can change.

Target (issue #18): no model slower with another process busy than 1.3 times its idle time.
Each cell is the fastest of 3 fits in its process. Neural CF and content-based train 1 epoch here
(their slowdown is per epoch; 10 and 15 would take minutes with the pool beside busy processes).
Run: python benchmarks/bench_load.py [path/to/ratings.csv] [rounds]
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from common import ratings_path

MODELS = {"mf": {}, "dot_bias": {"n_epochs": 30}, "neural": {"n_epochs": 1}, "content": {"n_epochs": 1},
          "biases": {}, "global_mean": {}}
REPEATS = 3  # fits per process and cell; the fastest counts (a passing spike of other work left out)
SETTINGS = {"one thread": "1", "pool": str(os.cpu_count() or 1)}
LOADS = (0, 1, 2)
REFERENCE = "reference"


def reference_loop():
    total = 0
    for value in range(4_000_000):
        total += value


def fit_once(path: str, kind: str) -> tuple[float, float]:
    """(wall, CPU) seconds to fit ``kind`` on the 80% training part, the fastest of REPEATS (run in the
    child; CPU time of the whole process, BLAS threads included)."""
    import common  # noqa: F401  (chooses the BLAS threads from CFEXPLORER_BLAS_THREADS)
    from cfexplorer.core.models import make_model
    from cfexplorer.core.ratings import train_test_split
    from cfexplorer.io.readers import read_any

    if kind == REFERENCE:
        fit = reference_loop
    else:
        train, _ = train_test_split(read_any(path).ratings, 0.2, seed=0)
        model = make_model(kind, **MODELS[kind])
        model.fit(train.subset(np.arange(50)))  # imports and first calls, outside the timing

        def fit():
            model.fit(train)
    seconds = []
    for _ in range(REPEATS):
        start, cpu = time.perf_counter(), time.process_time()
        fit()
        seconds.append((time.perf_counter() - start, time.process_time() - cpu))
    return min(seconds)


def run_child(path: Path, kind: str, threads: str) -> tuple[float, float]:
    env = {**os.environ, "CFEXPLORER_BLAS_THREADS": threads}
    result = subprocess.run([sys.executable, __file__, "--fit", str(path), kind], capture_output=True, text=True,
                            cwd=Path(__file__).parent, env=env)
    if result.returncode != 0:
        raise RuntimeError(f"{kind} failed:\n{result.stderr[-3000:]}")
    wall, cpu = result.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def start_busy(count: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]


def stop_busy(processes: list[subprocess.Popen]):
    for process in processes:
        process.kill()
        process.wait()


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--fit":
        print(*fit_once(sys.argv[2], sys.argv[3]))
        return 0
    path = ratings_path()
    if path is None:
        return 0
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    kinds = [REFERENCE, *MODELS]
    seconds = {(kind, setting, load): [] for kind in kinds for setting in SETTINGS for load in LOADS}
    for round_ in range(rounds):
        for load in LOADS:
            print(f"  round {round_ + 1}/{rounds}, {load} busy ...", flush=True)
            busy = start_busy(load)
            try:
                time.sleep(0.5)
                for kind in kinds:
                    for setting, threads in SETTINGS.items():
                        if kind == REFERENCE and setting != "one thread":
                            continue
                        seconds[kind, setting, load].append(run_child(path, kind, threads))
            finally:
                stop_busy(busy)
    wall = {key: np.array([w for w, _ in value]) for key, value in seconds.items()}
    cpu = {key: np.array([c for _, c in value]) for key, value in seconds.items()}
    print(f"\n{rounds} rounds on {os.cpu_count()} cores. Per load: wall = wall-clock fit time beside busy processes / "
          "idle, same round (median, worst); rel = that over the reference's (the share of a core any one thread "
          "got); CPU = CPU time beside busy processes / idle (a pool that waits for its threads spends more). "
          "pool / one: the pool's wall-clock time over one thread's at 0, 1, 2 busy.\n")
    header = "".join(f"{f'{n} busy: wall':>14}{'worst':>6}{'rel':>6}{'CPU':>6}" for n in LOADS[1:])
    print(f"{'model':<12}{'BLAS':<11}{'idle s':>7}{header}{'pool / one':>17}")
    largest = 0.0
    for kind in kinds:
        for setting in SETTINGS:
            idle = wall[kind, setting, 0]
            if not len(idle):
                continue
            cells = ""
            for load in LOADS[1:]:
                slowdown = wall[kind, setting, load] / idle
                relative = slowdown / (wall[REFERENCE, "one thread", load] / wall[REFERENCE, "one thread", 0])
                spent = cpu[kind, setting, load] / cpu[kind, setting, 0]
                cells += f"{np.median(slowdown):>14.2f}{slowdown.max():>6.2f}{np.median(relative):>6.2f}{np.median(spent):>6.2f}"
                if load == 1 and setting == "one thread" and kind != REFERENCE:
                    largest = max(largest, float(np.median(relative)))
            pool = ""
            if setting == "pool":
                pool = ", ".join(f"{np.median(wall[kind, 'pool', load] / wall[kind, 'one thread', load]):.1f}"
                                 for load in LOADS)
            print(f"{kind:<12}{setting:<11}{np.median(idle):>7.2f}{cells}{pool:>17}")
    print(f"\nwith one thread, every model beside one busy process within 1.3x of its idle time, relative to the "
          f"reference (median): {'met' if largest <= 1.3 else 'NOT met'} (largest {largest:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
