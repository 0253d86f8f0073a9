"""Loading and training time and memory against the number of ratings: MovieLens-style CSVs
(userId,movieId,rating,timestamp) of 1,000,209 and 10,002,090 synthetic ratings shaped like MovieLens 1M
(bench_scale.py's generator; 6,040 and 60,400 users, 3,706 movies, the same density), read by
``read_any`` as the app reads them, then the default model (ALS, 20 epochs) trained on what was read.

Each size is loaded and trained in a fresh process, so that its peak memory (the kernel's high-water mark
of resident memory while loading or while training, minus what the process held before that step) belongs
to that step alone; sizes alternate for a few rounds. The load times come from processes that only load,
one for each parser: our compiled one (io/_numbers.c, the default install's where a C compiler was at hand),
pyarrow's (the optional extra) and pandas' C parser alone (an install with neither), each first in turn: on a
virtual machine memory touched for the first time comes faster just after another process freed much of it,
so whichever load followed the 10M training looked the faster (2.4 s without pyarrow against 3.4 s with it,
in the same round). Printed per size: load time
(wall and CPU), the median epoch (epochs 2-20: the first also arranges the ratings), the whole fit, peak
bytes per rating; then the 10M/1M ratios. Those processes run minutes apart, and on a shared host the same
epoch can take 30% longer in one of them than in another: the epoch ratio is also measured in one process
that holds both sizes and times their epochs in turns, one of each a round (the ratio of each round's pair,
median and worst).

Targets (issue #18): 10M/1M epoch ratio <= 11 and load ratio <= 11; 10M ratings load in <= 10 s; 20
epochs on 10M ratings <= 60 s; peak memory while training <= 200 bytes per rating.
Run: python benchmarks/bench_linear.py [rounds]
"""

import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import common  # noqa: F401  (chooses the BLAS threads, as every entry point does)
from bench_scale import ML_1M_ITEMS, ML_1M_RATINGS, ML_1M_USERS, reset_peak, rss_mb, write_ratings

SCALES = {"1M": 1, "10M": 10}


def measure(path: str, train: bool = True, engine: str = "installed") -> dict:
    """Load ``path`` (and, with ``train``, fit the default model on it) in this fresh process, by the parser
    ``engine`` names: "compiled" (io/_numbers.c, as the default install where it could build it), "pyarrow",
    "pandas" (an install with neither), or "installed" (whichever the readers choose here)."""
    from cfexplorer.core.models import make_model
    from cfexplorer.io import numeric_columns
    from cfexplorer.io.readers import read_any
    from cfexplorer.lazy import load_now

    if engine in ("compiled", "pandas"):
        numeric_columns._pyarrow = lambda: None  # as an installation without the optional pyarrow
    if engine in ("pyarrow", "pandas"):
        numeric_columns.compiled = None  # as an installation that could not build io/_numbers.c

    load_now()
    reset_peak()
    before = rss_mb("VmRSS")
    start, cpu = time.perf_counter(), time.process_time()
    ratings = read_any(path).ratings
    load = {"load_s": time.perf_counter() - start, "load_cpu_s": time.process_time() - cpu,
            "load_mb": rss_mb("VmHWM") - before, "ratings": ratings.n_ratings}
    if not train:
        return load
    model = make_model("mf")
    reset_peak()
    before = rss_mb("VmRSS")
    start, cpu = time.perf_counter(), time.process_time()
    ends = [record.seconds for record in model.iter_fit(ratings)]
    fit_seconds, fit_cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = rss_mb("VmHWM") - before
    epochs = np.diff(ends)
    return {**load, "epochs": len(ends), "epoch_s": float(np.median(epochs)),
            "first_epoch_s": ends[0], "fit_s": fit_seconds, "fit_cpu_s": fit_cpu,
            "bytes_per_rating": peak * 2**20 / ratings.n_ratings, "peak_mb": peak,
            "train_rmse": model.history_[-1].train["rmse"]}


# pyarrow's parser only where the optional extra is installed: without it, a "pyarrow" load fell back to pandas'
# parser and was printed under pyarrow's name.
PYARROW_INSTALLED = importlib.util.find_spec("pyarrow") is not None
ENGINES = ("compiled", "pyarrow", "pandas") if PYARROW_INSTALLED else ("compiled", "pandas")
CHILD_MODES = {"train": "--measure", "interleaved": "--interleaved", **{engine: f"--load-{engine}" for engine in ENGINES}}


def interleaved_epochs(small: str, big: str, rounds: int = 15) -> dict:
    """Epoch times of the default model on both files in this one process, one epoch of each a round."""
    from cfexplorer.core.models import make_model
    from cfexplorer.io.readers import read_any
    from cfexplorer.lazy import load_now

    load_now()
    runs = {}
    for name, path in (("small", small), ("big", big)):
        model = make_model("mf")
        model.n_epochs = rounds + 1
        runs[name] = model.iter_fit(read_any(path).ratings)
        next(runs[name])  # epoch 0, the cost at the start
        next(runs[name])  # the first epoch also arranges the ratings
    times = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            start = time.perf_counter()
            next(run)
            times[name].append(time.perf_counter() - start)
    return times


def run_child(path: Path, mode: str, *more: Path) -> dict:
    command = [sys.executable, __file__, CHILD_MODES[mode], str(path), *map(str, more)]
    result = subprocess.run(command, capture_output=True, text=True, cwd=Path(__file__).parent)
    if result.returncode != 0:
        raise RuntimeError(f"{path.name} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == CHILD_MODES["interleaved"]:
        print(json.dumps(interleaved_epochs(sys.argv[2], sys.argv[3])))
        return 0
    if len(sys.argv) == 3 and sys.argv[1] in CHILD_MODES.values():
        engine = sys.argv[1].removeprefix("--load-") if sys.argv[1] != "--measure" else "installed"
        print(json.dumps(measure(sys.argv[2], train=sys.argv[1] == "--measure", engine=engine)))
        return 0
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    if not PYARROW_INSTALLED:
        print("  pyarrow is not installed (pip install 'cfexplorer[spark]'): its parser is not measured")
    folder = Path(tempfile.mkdtemp(prefix="bench_linear_"))
    files = {}
    for name, scale in SCALES.items():
        files[name] = folder / f"ratings_{name}.csv"
        print(f"  writing {files[name]} ...", flush=True)
        write_ratings(files[name], ML_1M_USERS * scale, ML_1M_ITEMS, ML_1M_RATINGS * scale)
    results = {name: [] for name in SCALES}
    for round_ in range(rounds):
        for name in SCALES:
            print(f"  round {round_ + 1}/{rounds}: {name} ...", flush=True)
            run = run_child(files[name], "train")
            for engine in ENGINES[round_ % len(ENGINES):] + ENGINES[:round_ % len(ENGINES)]:  # each first in turn
                load = run_child(files[name], engine)
                run.update({f"{engine}_{key}": value for key, value in load.items() if key.startswith("load")})
            results[name].append(run)
    print("  both sizes in one process, epochs in turns ...", flush=True)
    interleaved = run_child(files["1M"], "interleaved", files["10M"])
    for path in files.values():
        path.unlink()
    folder.rmdir()
    print(f"\n{'':<28}" + "".join(f"{name + ' median':>14}{name + ' worst':>13}" for name in SCALES))
    loads = [(f"load {what}, {engine}", f"{engine}_load_{key}", form) for engine in ENGINES
             for what, key, form in (("s", "s", "{:.2f}"), ("CPU s", "cpu_s", "{:.2f}"), ("peak MB", "mb", "{:.0f}"))]
    rows = [("ratings", "ratings", "{:,.0f}"), ("load s (as installed)", "load_s", "{:.2f}"), *loads,
            ("epoch s (2-20)", "epoch_s", "{:.2f}"),
            ("first epoch s", "first_epoch_s", "{:.2f}"), ("fit s (20 epochs)", "fit_s", "{:.1f}"),
            ("fit CPU s", "fit_cpu_s", "{:.1f}"), ("peak MB", "peak_mb", "{:.0f}"),
            ("peak bytes per rating", "bytes_per_rating", "{:.0f}"), ("train RMSE", "train_rmse", "{:.3f}")]
    for label, key, form in rows:
        cells = []
        for name in SCALES:
            values = [run[key] for run in results[name]]
            cells.append(f"{form.format(np.median(values)):>14}{form.format(max(values)):>13}")
        print(f"{label:<28}" + "".join(cells))
    small, big = results["1M"], results["10M"]
    epoch_ratio = [b["epoch_s"] / s["epoch_s"] for s, b in zip(small, big)]
    memory_ratio = [b["peak_mb"] / s["peak_mb"] for s, b in zip(small, big)]
    print(f"\n10M / 1M epoch: median {np.median(epoch_ratio):.1f}, worst {max(epoch_ratio):.1f} (target <= 11)")
    pairs = np.array(interleaved["big"]) / np.array(interleaved["small"])
    print(f"10M / 1M epoch, both in one process, {len(pairs)} rounds of one epoch each: median {np.median(pairs):.1f}, "
          f"worst {pairs.max():.1f} (1M {np.median(interleaved['small']):.3f} s, 10M "
          f"{np.median(interleaved['big']):.3f} s a median epoch)")
    for engine in ENGINES:
        for label, key in (("load", "load_s"), ("load CPU", "load_cpu_s")):
            ratio = [b[f"{engine}_{key}"] / s[f"{engine}_{key}"] for s, b in zip(small, big)]
            print(f"10M / 1M {label}, {engine}: median {np.median(ratio):.1f}, worst {max(ratio):.1f} (target <= 11)")
    for engine in ENGINES:
        loads = [run[f"{engine}_load_s"] for run in big]
        print(f"10M ratings loaded by {engine} in {np.median(loads):.1f} s, worst {max(loads):.1f} s (target <= 10): "
              f"{'met' if max(loads) <= 10 else 'NOT met'}")
    print(f"10M / 1M peak memory: median {np.median(memory_ratio):.1f}, worst {max(memory_ratio):.1f}")
    fit = max(run["fit_s"] for run in big)
    per_rating = max(run["bytes_per_rating"] for run in small + big)
    print(f"20 epochs on 10M ratings, worst {fit:.1f} s (target <= 60): {'met' if fit <= 60 else 'NOT met'}; "
          f"peak bytes per rating, worst {per_rating:.0f} (target <= 200): {'met' if per_rating <= 200 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
