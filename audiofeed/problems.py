"""Problems: what reading, building and checking report, in one shape.

Each names its file (and line, and field, where there is one), says what is wrong in words, and
has a severity: an error fails the command (exit status 1), a warning does not. The core never
prints; the command line prints one line per problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"  # the command fails: something is wrong or was not published
    WARNING = "warning"  # worth a look; the work went on and its result is good


@dataclass(frozen=True)
class Problem:
    """One thing wrong, where it is.

    >>> str(Problem("articles/a.txt", "unparseable runtime 'soon'", line=29))
    "articles/a.txt:29: unparseable runtime 'soon'"
    >>> str(Problem("feed.xml item 'Q'", "missing", field="enclosure", severity=Severity.WARNING))
    "feed.xml item 'Q': enclosure: missing"
    """

    file: str
    message: str
    line: int | None = None
    field: str = ""
    severity: Severity = Severity.ERROR

    def __post_init__(self) -> None:
        from .text import shown_name

        object.__setattr__(self, "file", shown_name(self.file))  # a file name that is not UTF-8 still prints

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


class Reported:
    """For reports that hold ``problems``: their errors, their warnings, and whether they passed."""

    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.WARNING]

    @property
    def ok(self) -> bool:
        return not self.errors


class BuildError(Exception):
    """The build cannot start or finish (not a problem with one page): one line, naming the file."""


class OutputBusy(BuildError):
    """Another build holds the output folder's lock (``lock``: its path); trying again later may work."""

    def __init__(self, message: str, lock: str):
        super().__init__(message)
        self.lock = lock


def warning(file, message: str, line: int | None = None, field: str = "") -> Problem:
    return Problem(str(file), message, line, field, Severity.WARNING)


def error(file, message: str, line: int | None = None, field: str = "") -> Problem:
    return Problem(str(file), message, line, field, Severity.ERROR)
