"""``byzref store check DIR``: verify a results store and print what was found.

Every record's curve file is checked against the size and sha256 in its line (older records: every
array is read); the report lists damaged records, unparseable lines, numerics versions, curve files of
no record and stale temporary files (:meth:`byzref.store.ResultStore.check`). Nothing is changed.
Exit status: 0 when the store is clean, 1 when damage was found, 2 when ``DIR`` is not a results store
(or a symlink stands in place of one of its files).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

__all__ = ["main_store_check"]


def main_store_check(args: argparse.Namespace) -> int:
    """Entry point of ``byzref store check`` (args: ``dir``); prints the report, returns the exit status.

    Parameters
    ----------
    args : argparse.Namespace
        With ``dir``, the store directory.

    Returns
    -------
    int
        0 when the store is clean, 1 when damage was found.

    Raises
    ------
    ConfigError
        When ``dir`` is not a results store (exit status 2 on the command line).
    """
    from byzref.errors import ConfigError
    from byzref.store import ResultStore

    p = Path(args.dir)
    if not p.is_dir() or not os.path.lexists(p / "runs.jsonl"):
        raise ConfigError(f"{p} is not a results store (no {p / 'runs.jsonl'}); give a folder made by "
                          "`byzref sweep --out` (it must hold runs.jsonl)")
    report = ResultStore(p, readonly=True).check()
    print("\n".join(report.lines()))
    return report.exit_code
