"""The window state machine (tests/ui/window_machine.py) played for tens of thousands of steps from random
seeds: how many steps ran, what they found, and how fast.

The machine runs in child processes, a few thousand steps each, so that a crash of the process (an abort
inside Qt) is a finding, not the end of the run: every step is written to a trace file as it starts, and
the steps of the example that died are reported from it. Known bugs (tests/ui/machine_support.KNOWN_BUGS)
are counted and the example goes on; a crash, a hang, or anything else ends that child's run and is
reported with the steps that led to it (as run: a race may not replay, so nothing is shrunk).

Run:  python benchmarks/bench_state_machine.py [total steps, default 50000] [--steps-per-example N]
      [--examples-per-child N] [--strict]   (--strict: tolerate nothing, stop at the first of each bug)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHILD_TIMEOUT_S = 900


def run_child(args) -> None:
    """In the child: play the machine for one seed and write what happened as JSON."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
    os.environ["CFEXPLORER_NO_DIALOGS"] = "1"
    sys.path.insert(0, str(ROOT))
    from cfexplorer.app import make_application
    from tests.ui.machine_support import KNOWN_BUGS, answered_dialogs, play
    from tests.ui.window_machine import machine_with

    make_application()
    with open(args.trace, "w") as trace:
        machine = machine_with(() if args.strict else KNOWN_BUGS, trace=trace, freeze_before_a_crash=False)
        failure = None
        with answered_dialogs():
            try:
                play(machine, args.seed, args.steps_per_example, examples=args.examples_per_child + 1)
            except Exception as error:  # what the machine found
                failure = machine.stats.describe_first_failure() or f"{type(error).__name__}: {error}"
    stats = machine.stats
    Path(args.report).write_text(json.dumps({
        "steps": stats.generated_steps, "simplest": stats.steps - stats.generated_steps, "examples": stats.examples,
        "idle": stats.idle_steps - (stats.example_steps[0] if stats.example_steps else 0), "tolerated": stats.tolerated, "failure": failure,
        "time_by_action": stats.time_by_action,
    }))


def trace_examples(path: Path) -> list[list[str]]:
    examples = []
    for line in path.read_text().splitlines() if path.exists() else []:
        if line == "--- example":
            examples.append([])
        elif examples:
            examples[-1].append(line)
    return examples


def run_campaign(args) -> int:
    folder = Path(tempfile.mkdtemp(prefix="cfx-bench-machine-"))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    rng = random.Random()
    total_steps, idle_steps, children, started = 0, 0, 0, time.perf_counter()
    tolerated, findings, time_by_action = Counter(), [], {}
    print(f"target {args.total} steps: {args.examples_per_child} examples of {args.steps_per_example} steps per "
          f"child process, random seeds, {'nothing' if args.strict else 'known bugs'} tolerated", flush=True)
    while total_steps < args.total:
        seed = rng.randrange(2**32)
        trace, report = folder / f"trace-{children}.txt", folder / f"report-{children}.json"
        command = [sys.executable, __file__, "--child", "--seed", str(seed), "--trace", str(trace), "--report",
                   str(report), "--steps-per-example", str(args.steps_per_example), "--examples-per-child",
                   str(args.examples_per_child)] + (["--strict"] if args.strict else [])
        child_started = time.perf_counter()
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S, env=env)
            outcome, stderr = done.returncode, done.stderr
        except subprocess.TimeoutExpired as expired:
            outcome, stderr = "hang", (expired.stderr or b"").decode(errors="replace")
        children += 1
        examples = trace_examples(trace)
        if report.exists():
            result = json.loads(report.read_text())
            steps = result["steps"]
            idle_steps += result["idle"]
            tolerated.update(result["tolerated"])
            for name, (calls, seconds) in result["time_by_action"].items():
                spent = time_by_action.setdefault(name, [0, 0.0])
                spent[0] += calls
                spent[1] += seconds
            if result["failure"]:
                findings.append((seed, result["failure"]))
        else:  # the child died: its trace says how far it got (its first example: hypothesis's simplest)
            steps = sum(len(example) for example in examples[1:])
            last = examples[-1] if examples else []
            message = next((line for line in stderr.splitlines() if "QThread" in line or "Fatal" in line),
                           stderr.strip().splitlines()[-1] if stderr.strip() else "")
            description = [f"the process ended ({'hung' if outcome == 'hang' else f'exit status {outcome}'}): "
                           f"{message}", f"after these {len(last)} steps (as run):"]
            description += [f"  {number}. {text}" for number, text in enumerate(last, start=1)]
            findings.append((seed, "\n".join(description)))
        total_steps += steps
        elapsed = time.perf_counter() - started
        print(f"child {children}: seed {seed}, {steps} steps in {time.perf_counter() - child_started:.0f} s "
              f"({'ok' if outcome == 0 else outcome}); {total_steps} steps, {elapsed / 60:.1f} min so far",
              flush=True)
    elapsed = time.perf_counter() - started
    print(f"\n{total_steps} steps in {children} child processes, {elapsed / 60:.1f} min: "
          f"{total_steps / elapsed:.1f} steps per second (process starts and windows included; not counted: "
          f"the simplest example hypothesis plays first in each child, the first rule repeated)")
    print(f"{idle_steps} of them ({idle_steps / max(total_steps, 1):.0%}) found nothing to act on (no cell, no "
          f"visible point, no message to answer)")
    print("known bugs met (times the machine saw each):")
    for name, count in sorted(tolerated.items(), key=lambda item: -item[1]):
        print(f"  {count:6d}  {name}")
    print(f"other failures: {len(findings)}")
    for seed, description in findings:
        first, *rest = description.splitlines()
        print(f"- seed {seed}: {first}")
        steps = [line for line in rest if line.startswith("  ")]
        for line in [line for line in rest if not line.startswith("  ")] + steps[-25:]:
            print(f"    {line}")  # the end of a long sequence is where it went wrong
    print("where the time went (seconds, calls, ms per call):")
    for name, (calls, seconds) in sorted(time_by_action.items(), key=lambda item: -item[1][1])[:15]:
        print(f"  {name:36s} {seconds:8.1f} {calls:7d} {1000 * seconds / calls:8.1f}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("total", nargs="?", type=int, default=50_000)
    parser.add_argument("--steps-per-example", type=int, default=100)
    parser.add_argument("--examples-per-child", type=int, default=20)
    parser.add_argument("--strict", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--trace", help=argparse.SUPPRESS)
    parser.add_argument("--report", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args)
        return 0
    return run_campaign(args)


if __name__ == "__main__":
    sys.exit(main())
