"""Where finished runs are read from: a sweep's results store, ``byzref verify --out``, or run folders.

:func:`open_runs` takes any of

* a results store (``byzref sweep --out DIR``: ``DIR/runs.jsonl`` + ``DIR/curves/``);
* a ``byzref verify --out DIR`` folder (its store is ``DIR/runs``);
* a ``byzref run --out DIR`` folder (``DIR/<run_id>.json`` + ``DIR/<run_id>.npz``, one pair per run);

and returns a :class:`RunSource`: the run records to use, a way to load each run's curves, and lines
that say what was read and what was skipped. What is used is the same whatever the source:

* only records whose curve file verifies (size and sha256, or every array read for older records);
  damaged ones are skipped and counted, never used;
* runs of one numerics version (:data:`byzref.config.NUMERICS`): a source holding several is read for
  this byzref's version only, and the others are counted as left out (a ConfigError when it holds none
  of this version); runs of two versions are never pooled;
* one record per run id (a store keeps the last one that verifies).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from byzref.errors import ConfigError

__all__ = ["RunSource", "open_runs"]


@dataclass
class RunSource:
    """Finished runs read from one place; made by :func:`open_runs`.

    The constructor's parameters are kept as attributes of the same names.

    Parameters
    ----------
    path : pathlib.Path
        The folder that was read (a verify folder resolves to its ``runs`` store).
    kind : str
        ``"store"`` or ``"run folder"``.
    records : list of dict
        The run records to use (``run_id``, ``status``, ``config``, ``summary``, ``versions``, ...).
    lines : list of str, optional
        What was read and what was skipped, and why (for printing); default empty.
    _load : callable
        ``_load(record) -> Result``, the loader behind :meth:`load` (internal; set by
        :func:`open_runs`).
    """

    path: Path
    kind: str
    records: list[dict]
    lines: list[str] = field(default_factory=list)
    _load: Callable = field(default=None, repr=False)

    def load(self, record: dict):
        """The full :class:`~byzref.results.Result` (with curves) of one of the source's records.

        Parameters
        ----------
        record : dict
            An element of ``records``.

        Returns
        -------
        Result
            The run, with its verified curves.
        """
        return self._load(record)

    def curves(self, record: dict) -> dict:
        """The curves of one of the source's records (``iteration``, ``grad_sq``, ...).

        Parameters
        ----------
        record : dict
            An element of ``records``.

        Returns
        -------
        dict of numpy.ndarray
            ``Result.curves`` of that run.
        """
        return self._load(record).curves


def _count(counter: Counter) -> str:
    return ", ".join(f"{n} {k}" for k, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


def _from_store(p: Path) -> RunSource:
    from byzref.store import ResultStore, record_numerics, same_numerics

    store = ResultStore(p, readonly=True)
    scan = store.scan()
    records, left_out = same_numerics(scan.records, scan.current)
    skipped = []
    if scan.damaged:
        skipped.append(f"{len(scan.damaged)} damaged ({_count(Counter(d.kind for d in scan.damaged))}; "
                       "see `byzref store check`)")
    if scan.unparseable:
        skipped.append(f"{len(scan.unparseable)} unparseable line(s)")
    if scan.repaired:
        skipped.append(f"{len(scan.repaired)} damaged record(s) of runs stored again since")
    for version, n in sorted(left_out.items()):
        skipped.append(f"{n} run(s) of numerics version {version} (only version {scan.current} is drawn)")
    statuses = Counter(str(r.get("status")) for r in records)
    lines = [f"store {p}: {len(records)} runs read ({_count(statuses)})"]
    if skipped:
        lines.append("skipped: " + "; ".join(skipped))
    if records and not left_out and record_numerics(records[0]) != scan.current:
        lines.append(f"note: runs of numerics version {record_numerics(records[0])}; "
                     f"this byzref computes version {scan.current}")
    if not records:
        raise ConfigError(f"the results store {p} holds no finished runs with intact curves"
                          + (f" ({'; '.join(skipped)})" if skipped else "")
                          + "; it needs at least one (see `byzref store check`)")
    return RunSource(p, "store", records, lines, store.load)


def _from_run_folder(p: Path, jsons: list[Path]) -> RunSource:
    from byzref.results import DamagedCurves, load_result
    from byzref.store import record_numerics, same_numerics

    records, loaded, damaged, unreadable = [], {}, Counter(), 0
    for js in jsons:
        try:
            rec = json.loads(js.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            unreadable += 1
            continue
        if not isinstance(rec, dict) or "run_id" not in rec or "config" not in rec:
            unreadable += 1
            continue
        try:
            res = load_result(js)
        except DamagedCurves as exc:
            damaged[str(exc).rsplit(": ", 1)[-1]] += 1
            continue
        records.append(rec)
        loaded[rec["run_id"]] = res
    from byzref.store import _current_numerics

    current = _current_numerics()
    records, left_out = same_numerics(records, current)
    skipped = []
    if damaged:
        skipped.append(f"{sum(damaged.values())} damaged ({_count(damaged)})")
    if unreadable:
        skipped.append(f"{unreadable} unreadable .json file(s)")
    for version, n in sorted(left_out.items()):
        skipped.append(f"{n} run(s) of numerics version {version} (only version {current} is drawn)")
    lines = [f"run folder {p}: {len(records)} runs read "
             f"({_count(Counter(str(r.get('status')) for r in records))})"]
    if skipped:
        lines.append("skipped: " + "; ".join(skipped))
    if records and not left_out and record_numerics(records[0]) != current:
        lines.append(f"note: runs of numerics version {record_numerics(records[0])}; "
                     f"this byzref computes version {current}")
    if not records:
        raise ConfigError(f"the run folder {p} holds no run with intact curves"
                          + (f" ({'; '.join(skipped)})" if skipped else "") + "; it needs at least one")
    return RunSource(p, "run folder", records, lines, lambda rec: loaded[rec["run_id"]])


def open_runs(path: str | os.PathLike) -> RunSource:
    """The runs at ``path``: a results store, a ``byzref verify --out`` folder or a ``byzref run`` folder.

    Parameters
    ----------
    path : str or os.PathLike
        A store (``runs.jsonl`` inside), a verify folder (``runs/runs.jsonl`` inside) or a folder of
        ``<run_id>.json`` / ``<run_id>.npz`` pairs.

    Returns
    -------
    RunSource
        The usable records of this byzref's numerics version, a loader and the lines that say what
        was read and skipped.

    Raises
    ------
    ConfigError
        One line, naming the path and what is expected, when ``path`` is none of these or holds no
        run that can be used.
    """
    p = Path(path)
    expected = ("expected a results store (byzref sweep --out), a byzref verify --out folder or a "
                "byzref run --out folder")
    if not os.path.lexists(p):
        raise ConfigError(f"{p} does not exist; {expected}")
    if not p.is_dir():
        raise ConfigError(f"{p} is not a directory; {expected}")
    if os.path.lexists(p / "runs.jsonl"):
        return _from_store(p)
    if os.path.lexists(p / "runs" / "runs.jsonl"):
        return _from_store(p / "runs")
    jsons = sorted(q for q in p.glob("*.json") if q.with_suffix(".npz").exists() or len(q.stem) == 16)
    if jsons:
        return _from_run_folder(p, jsons)
    raise ConfigError(f"{p} holds no runs (no runs.jsonl, runs/runs.jsonl or <run_id>.json); {expected}")
