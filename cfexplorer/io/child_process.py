"""A function run in a fresh Python process of its own, its result (or its exception) handed back.

Why: a reader running in a background thread still freezes the window while it holds Python's GIL, and pandas
holds it through each whole-column operation on text (stripping, comparing, factorizing the names of a file
whose ids are names): 0.35 s at a time for two million ratings, seconds for tens of millions. A process of its
own holds no GIL of ours. It costs a start (Python and pandas imported again, about half a second) and the
result's copy through a pipe, so only large text files are read this way (``readers.TEXT_IN_A_PROCESS_BYTES``).

The child is ``python -m cfexplorer.io.child_process``, given the pickled call on its standard input, answering
on its standard output. Not multiprocessing: its spawned children run the parent's main script again, and a
script without a ``__main__`` guard would then run twice (and fork, its other way, is unsafe beside Qt's threads).
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys


class ChildProcessDied(OSError):
    """The process ended without an answer (killed, or out of memory)."""


def call_in_child_process(function, *args):
    """``function(*args)`` (a module-level function; it, its arguments and its result picklable) run in a process
    of its own: its result, or the exception it raised, raised here. OSError when no process can be started."""
    call = pickle.dumps((function, args), protocol=pickle.HIGHEST_PROTOCOL)
    # The modules this process finds (a source tree on sys.path, not installed, included).
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(entry for entry in sys.path if entry)}
    with subprocess.Popen([sys.executable, "-m", __name__], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          env=environment) as child:
        answer, _ = child.communicate(call)
    try:
        succeeded, value = pickle.loads(answer)
    except Exception:  # noqa: BLE001 - nothing, or not all of it: the process ended before it answered
        raise ChildProcessDied(f"the process reading it ended without an answer (exit code {child.returncode}; "
                               "out of memory?)") from None
    if succeeded:
        return value
    raise value


def _answer_the_call():
    """In the child: run the call read from standard input; write (True, result) or (False, the exception)."""
    answer_to = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # whatever else prints cannot mix with the answer
    sys.stdout = sys.stderr
    function, args = pickle.load(sys.stdin.buffer)
    try:
        answer = (True, function(*args))
    except BaseException as error:  # noqa: BLE001 - every failure goes back to the caller, who decides
        answer = (False, error)
    try:
        data = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as error:  # noqa: BLE001 - an answer that cannot be pickled: say so, in one line
        data = pickle.dumps((False, RuntimeError(f"the reading process could not send its answer: {error}")))
    with answer_to:
        answer_to.write(data)


if __name__ == "__main__":
    _answer_the_call()
