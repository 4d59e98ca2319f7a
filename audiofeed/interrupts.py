"""How a signal stops the program: :class:`Interrupted`, raised by the handlers :mod:`.entry`
installs, caught by the commands that must say what was left behind."""

from __future__ import annotations

import signal


class Interrupted(BaseException):
    """A signal asked the program to stop.

    Not a ``KeyboardInterrupt``: click turns those into "Aborted!" and status 1.
    """

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum

    @classmethod
    def of(cls, error: BaseException) -> Interrupted:
        """``error`` as an interruption (a bare ``KeyboardInterrupt`` is SIGINT's)."""
        return error if isinstance(error, Interrupted) else cls(signal.SIGINT)

    @property
    def exit_status(self) -> int:
        return 128 + self.signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name
