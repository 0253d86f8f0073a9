"""A function run in a fresh Python process of its own, its result (or its exception) handed back.

Why: a reader running in a background thread still freezes the window while it holds Python's GIL, and pandas
holds it through each whole-column operation on text (stripping, comparing, factorizing the names of a file
whose ids are names): 0.35 s at a time for two million ratings, seconds for tens of millions. A process of its
own holds no GIL of ours. It costs a start (Python and pandas imported again, about half a second) and the
result's copy through a pipe, so only large text files are read this way (``readers.TEXT_IN_A_PROCESS_BYTES``).

The child is ``python -P -m cfexplorer.io.child_process``, given the pickled call on its standard input,
answering on its standard output. Not multiprocessing: its spawned children run the parent's main script again,
and a script without a ``__main__`` guard would then run twice (and fork, its other way, is unsafe beside Qt's
threads).
"""

from __future__ import annotations

import atexit
import os
import pickle
import subprocess
import sys
import tempfile
import threading
import traceback

_running: set[subprocess.Popen] = set()  # children not yet answered: killed at exit, not left to run for minutes
_running_lock = threading.Lock()


class ChildProcessUnavailable(Exception):
    """No answer from a child for a reason of this machine, not of the call (no interpreter to start, a child that
    could not import us): the caller may do the work itself."""


class ChildProcessDied(OSError):
    """The child ended without an answer: killed (out of memory?), or told to stop."""


def call_in_child_process(function, *args, cancelled: threading.Event | None = None):
    """``function(*args)`` (a module-level function; it, its arguments and its result picklable) run in a process
    of its own: its result, or the exception it raised, raised here. The child is killed once ``cancelled`` is set
    (then ChildProcessDied) and when this process exits."""
    if getattr(sys, "frozen", False) or not sys.executable:  # an app bundle: no interpreter to run ``-m`` with
        raise ChildProcessUnavailable("no Python interpreter to start")
    call = pickle.dumps((function, args), protocol=pickle.HIGHEST_PROTOCOL)
    # The modules this process imports (a source tree on sys.path included); -P: not those of the current folder.
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(str(entry) for entry in sys.path if entry)}
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: nobody has to read it while the child runs
        try:
            child = subprocess.Popen([sys.executable, "-P", "-m", __name__], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=errors, env=environment,
                                     creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0))
        except (OSError, ValueError) as error:
            raise ChildProcessUnavailable(f"could not start {sys.executable}: {error}") from None
        with _running_lock:
            _running.add(child)
        answered = threading.Event()
        if cancelled is not None:
            threading.Thread(target=_kill_once_cancelled, args=(child, cancelled, answered), daemon=True).start()
        answer = None
        try:
            with child.stdin:
                child.stdin.write(call)
            # Read as it comes: communicate() kept the answer's pieces, their join and the result, three copies.
            answer = pickle.load(child.stdout)
        except MemoryError:
            raise
        except Exception:  # noqa: BLE001 - no answer, or one this process cannot load: see _no_answer
            pass
        finally:
            answered.set()
            child.stdout.close()  # a child still writing ends (a broken pipe) instead of waiting on us for good
            child.wait()
            with _running_lock:
                _running.discard(child)
        if answer is None:
            raise _no_answer(child, errors, cancelled)
    succeeded, value = answer
    if succeeded:
        return value
    raise value


def _no_answer(child: subprocess.Popen, errors, cancelled) -> Exception:
    """Why a child ended without an answer: killed (by a signal, or told to stop), or unable to run at all."""
    if cancelled is not None and cancelled.is_set():
        return ChildProcessDied("stopped: cancelled")
    if child.returncode < 0:  # a signal: the kernel's out-of-memory killer, most often
        return ChildProcessDied(f"the process reading it was killed (signal {-child.returncode}; out of memory?)")
    errors.seek(0)
    said = errors.read().decode("utf-8", errors="replace").strip().splitlines()
    return ChildProcessUnavailable(f"the process ended with exit code {child.returncode}"
                                   + (f": {said[-1]}" if said else ""))


def _kill_once_cancelled(child: subprocess.Popen, cancelled: threading.Event, answered: threading.Event):
    while not answered.is_set():
        if cancelled.wait(0.1):
            child.kill()
            return


@atexit.register
def _kill_running_children():
    with _running_lock:
        for child in _running:
            child.kill()


def _answer_the_call():
    """In the child: run the call read from standard input; write (True, result) or (False, the exception)."""
    answer_to = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # whatever else prints cannot mix with the answer
    sys.stdout = sys.stderr
    function, args = pickle.load(sys.stdin.buffer)
    try:
        answer = (True, function(*args))
    except BaseException as error:  # noqa: BLE001 - every failure goes back to the caller, who decides
        error.add_note("raised in the reading process:\n" + traceback.format_exc())
        answer = (False, error)
    try:
        data = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as error:  # noqa: BLE001 - an answer that cannot be pickled: say so, in one line
        data = pickle.dumps((False, RuntimeError(f"the reading process could not send its answer: {error}")))
    with answer_to:
        answer_to.write(data)


if __name__ == "__main__":
    _answer_the_call()
