"""The two errors a reader raises: the message is one line naming the file (and line) and the problem."""

from __future__ import annotations


def one_line(text) -> str:
    """A library's multi-line message as one line."""
    return " ".join(str(text).split())


def quoted(text, limit: int = 60) -> str:
    """A cell of a file quoted in a message: its first ``limit`` characters (a cell of 100,000 digits was echoed
    whole in the "one line" naming it)."""
    text = str(text)
    return repr(text) if len(text) <= limit else repr(text[:limit]) + f"… ({len(text):,} characters)"


def reason(error: BaseException) -> str:
    """What went wrong, in one line: the exception's message, or its type when it has none."""
    return one_line(error) or type(error).__name__


class ReaderError(ValueError):
    """Base of the errors below: a file refused with a one-line message."""


class RatingsFileError(ReaderError):
    """A file that cannot be read as ratings (or as a project); the message is one line for the user."""

    def __init__(self, path, problem: str, line: int | None = None):
        problem = one_line(problem)
        self.path, self.problem, self.line = str(path), problem, line
        where = f"{self.path}, line {line}" if line is not None else self.path
        super().__init__(f"{where}: {problem}")

    def __reduce__(self):
        # Made again from what it was made of (pickled by default from its message alone, it could not be):
        # a reader run in a process of its own (child_process.py) raises it there and here.
        return type(self), (self.path, self.problem, self.line), self.__dict__


class FactorFileError(ReaderError):
    """A factor file that cannot be read; the message (one line) names the file and the problem."""

    def __init__(self, message: str):
        super().__init__(one_line(message))

    @classmethod
    def at(cls, path, problem: str, line: int | None = None) -> "FactorFileError":
        """The error for ``problem`` in ``path``, phrased as RatingsFileError phrases it."""
        where = f"{path}, line {line}" if line is not None else f"{path}"
        return cls(f"{where}: {problem}")
