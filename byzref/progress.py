"""Progress of long work: a one-line bar redrawn in place on a terminal, plain log lines elsewhere.

On a TTY::

    runs [##########..........]  12/24  failed 1  elapsed 0:00:12  ETA 0:00:12

Not on a TTY (CI logs): one line each time another 10% of the runs is done, and one at the end.
No dependency beyond the standard library.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress", "fmt_seconds"]


def fmt_seconds(s: float) -> str:
    """``H:MM:SS`` for a non-negative duration in seconds ("?" when unknown).

    Parameters
    ----------
    s : float
        Seconds; NaN, negative or infinite values give ``"?"``.

    Returns
    -------
    str
        The duration rounded to whole seconds, e.g. ``"1:02:03"``.
    """
    if s != s or s < 0 or s == float("inf"):
        return "?"
    s = round(s)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


class Progress:
    """Callable progress reporter: ``progress(done, total, failed)``.

    Parameters
    ----------
    label : str
        Word in front of the counts (default ``"runs"``).
    stream : text stream
        Where to write (default ``sys.stderr``).
    tty : bool or None
        Force bar (True) or log lines (False); None (default): ``stream.isatty()``.
    width : int
        Characters of the bar (default 20).
    min_interval : float
        Seconds between redraws of the bar (the final state is always drawn).
    clock : callable
        Returns the current time in seconds (default ``time.monotonic``; tests pass a fake one).
    """

    def __init__(self, label: str = "runs", stream: TextIO | None = None, tty: bool | None = None,
                 width: int = 20, min_interval: float = 0.1, clock=time.monotonic):
        self.label = label
        self.stream = sys.stderr if stream is None else stream
        if tty is None:
            isatty = getattr(self.stream, "isatty", None)
            tty = bool(isatty and isatty())
        self.tty, self.width, self.min_interval = tty, width, min_interval
        self.clock = clock
        self.t0 = clock()
        self._last_draw = -float("inf")
        self._last_decile = -1
        self._open_line = False

    def line(self, done: int, total: int, failed: int) -> str:
        """The text of one progress report (without bar when not on a TTY).

        Parameters
        ----------
        done : int
            Units of work finished.
        total : int
            Units of work in all.
        failed : int
            Units of work that failed (counted in ``done``).

        Returns
        -------
        str
            Counts, failures, elapsed time and an ETA extrapolated from the mean time per unit.
        """
        elapsed = self.clock() - self.t0
        eta = elapsed / done * (total - done) if done else float("nan")
        times = f"elapsed {fmt_seconds(elapsed)}  ETA {fmt_seconds(eta) if done < total else '0:00:00'}"
        counts = f"{done}/{total}"
        if self.tty:
            filled = self.width * done // total if total else self.width
            bar = "#" * filled + "." * (self.width - filled)
            return f"{self.label} [{bar}] {counts:>{2 * len(str(total)) + 1}}  failed {failed}  {times}"
        pct = 100 * done // total if total else 100
        return f"{self.label} {counts} ({pct}%)  failed {failed}  {times}"

    def __call__(self, done: int, total: int, failed: int = 0) -> None:
        now = self.clock()
        if self.tty:
            if done < total and now - self._last_draw < self.min_interval:
                return
            self._last_draw = now
            end = "\n" if done >= total else ""
            self.stream.write("\r" + self.line(done, total, failed) + "\x1b[K" + end)
            self._open_line = done < total
        else:
            decile = 10 * done // total if total else 10
            if decile <= self._last_decile and done < total:
                return
            if done >= total and self._last_decile == 10:
                return
            self._last_decile = decile
            self.stream.write(self.line(done, total, failed) + "\n")
        self.stream.flush()

    def close(self) -> None:
        """End an open bar line (after an interruption)."""
        if self._open_line:
            self.stream.write("\n")
            self.stream.flush()
            self._open_line = False
