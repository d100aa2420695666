"""Finished runs as one long table: a row per (run, checkpoint), or a row per run with ``summary``.

:func:`rows` reads a results store, a ``byzref verify --out`` folder or ``byzref run --out`` folders
(:func:`byzref.runs.open_runs`: verified curves only, one numerics version) and returns
``(columns, rows)`` with plain Python values (no pandas); :func:`load` returns the same table as a
pandas DataFrame (the ``table`` extra); :func:`write` writes it as CSV (standard library only) or
Parquet (the ``table`` extra), atomically. ``byzref table`` is the command line (:func:`main_table`).

Columns, in this order
----------------------
1. identity and provenance: ``run_id``, ``status``, ``diverged_at`` (empty unless diverged), ``seed``,
   ``numerics`` (``versions["numerics"]``, a string; "1" for records older than byzref 0.2.0, as the
   store reads them), ``byzref`` (``versions["byzref"]``),
   ``wall_time`` (s);
2. every config field as a dotted path (:func:`byzref.select.flatten`; lists and inline tables stay
   JSON strings): first the top-level scalars ``n``, ``f``, ``T``, then the other top-level scalars
   (e.g. a sweep's ``name``) sorted, then the component tables ``problem.*``, ``algorithm.*``,
   ``compressor.*``, ``aggregator.*``, ``attack.*``, ``record.*``, then any other table, sorted; inside
   a table ``<table>.name`` first, the other paths sorted. The config's ``seed`` is the ``seed`` column
   above; a config path equal to another column's name would be prefixed ``config.``;
3. ``method``: :func:`byzref.select.method_label` (e.g. ``"Byz-DM21, top_k"``);
4. per checkpoint (default): every curve of the runs' .npz files, ``iteration``, ``grad_sq``,
   ``grad_sq_avg``, ``f_gap``, ``dist``, ``agg_err``, ``bits_up``, ``bits_down`` in this order, then any
   other curve sorted by name;
   per run (``summary=True``): ``summary.<key>`` for ``avg_grad_sq``, ``final_grad_sq``,
   ``final_f_gap``, ``bits_up_per_worker``, ``bits_down_per_worker``, ``iterations``,
   ``progress_ratio`` in this order, then other summary keys sorted; then ``constants.<path>`` (the
   problem's constants flattened like the config, sorted by path).

Runs with different field sets are unioned: a field a run lacks is ``None`` (an empty CSV cell; NaN or
<NA> in a DataFrame). Summary and constant values stored as the strings "inf", "-inf", "nan" (JSON has
no such numbers) are floats here. Rows: the runs in the order the source lists them (a store's line
order), each run's checkpoints in the order of its curves (ascending iterations).
"""

from __future__ import annotations

import csv
import io
import math
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from byzref.errors import ConfigError
from byzref.results import _tmp_name

__all__ = ["CURVES", "IDENTITY", "SUMMARY", "Table", "build", "load", "main_table", "rows", "write"]

#: the identity and provenance columns, first in every table
IDENTITY = ("run_id", "status", "diverged_at", "seed", "numerics", "byzref", "wall_time")
#: the known curves, in column order (others follow, sorted)
CURVES = ("iteration", "grad_sq", "grad_sq_avg", "f_gap", "dist", "agg_err", "bits_up", "bits_down")
#: the known summary values, in column order (others follow, sorted)
SUMMARY = ("avg_grad_sq", "final_grad_sq", "final_f_gap", "bits_up_per_worker", "bits_down_per_worker",
           "iterations", "progress_ratio")
_TOP = ("n", "f", "T")
_TABLES = ("problem", "algorithm", "compressor", "aggregator", "attack", "record")
_NONFINITE = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}
EXTRA_HINT = "pip install 'byzref[table]'"


@dataclass
class Table:
    """A results table and where it came from; made by :func:`build`.

    The parameters are kept as attributes of the same names.

    Parameters
    ----------
    columns : list of str
        Column names (module docstring for the order).
    rows : list of list
        One list of values per row (None where a run lacks the field).
    runs : int
        Runs in the table (after ``where``).
    lines : list of str, optional
        What was read and skipped (the ``lines`` of :class:`byzref.runs.RunSource`), plus the
        ``where`` selection; default empty.
    summary : bool, optional
        One row per run (True) or per checkpoint (False, the default).
    """

    columns: list[str]
    rows: list[list]
    runs: int
    lines: list[str] = field(default_factory=list)
    summary: bool = False


def _plain(v):
    """A Python scalar for a numpy one (so that floats are ``float`` and repr round-trips)."""
    if isinstance(v, np.generic):
        return v.item()
    return v


def _number(v):
    """``"inf"``/``"-inf"``/``"nan"`` strings (how records store non-finite floats) as floats."""
    return _NONFINITE.get(v, v) if isinstance(v, str) else _plain(v)


def _config_order(path: str) -> tuple:
    parts = path.split(".")
    if len(parts) == 1:
        return (0, _TOP.index(path), "") if path in _TOP else (1, 0, path)
    head, rest = parts[0], ".".join(parts[1:])
    rank = _TABLES.index(head) if head in _TABLES else len(_TABLES)
    return (2, rank, head, rest != "name", rest)


def _known_first(names: Iterable[str], known: tuple[str, ...]) -> list[str]:
    names = set(names)
    return [k for k in known if k in names] + sorted(names - set(known))


def _conditions(where) -> list[tuple[str, Any]]:
    """``where`` as ``[(key, value), ...]``: None, ``"k=v"``, an iterable of ``"k=v"`` or ``(k, v)``, or a
    mapping ``{key: value or list of values}``."""
    from byzref.select import parse_where

    if where is None:
        return []
    if isinstance(where, str):
        return parse_where([where])
    if isinstance(where, Mapping):
        out = []
        for k, v in where.items():
            out.extend((str(k), x) for x in (v if isinstance(v, list | tuple) else [v]))
        return out
    out = []
    for item in where:
        if isinstance(item, tuple) and len(item) == 2:
            out.append((str(item[0]), item[1]))
        else:
            out.extend(parse_where([item]))
    return out


def build(path: str | os.PathLike, summary: bool = False, where=None) -> Table:
    """The table of the runs at ``path`` (a results store, a verify ``--out`` folder or a run folder).

    Parameters
    ----------
    path : path
        What :func:`byzref.runs.open_runs` reads.
    summary : bool, optional
        One row per run with its ``summary.*`` and ``constants.*`` values, instead of one row per
        checkpoint with every curve (default False).
    where : str, list, dict or None, optional
        Runs to keep (:func:`byzref.select.filter_runs`: OR within a key, AND across keys), applied to
        the records before any curve is read: ``"key=value"``, a list of such strings (``--where``)
        or of ``(key, value)`` pairs, or ``{key: value or [values]}``. Default None keeps all.

    Returns
    -------
    Table

    Raises
    ------
    ConfigError
        One line, for a path without usable runs, an unknown ``where`` key or a selection that keeps
        no run.
    """
    from byzref.runs import open_runs
    from byzref.select import filter_runs, flatten, method_label
    from byzref.store import record_numerics

    src = open_runs(path)
    conds = _conditions(where)
    records = filter_runs(src.records, conds) if conds else list(src.records)
    lines = list(src.lines)
    if conds:
        lines.append(f"--where {' '.join(f'{k}={v}' for k, v in conds)}: {len(records)} of "
                     f"{len(src.records)} runs kept")

    configs, idents, extras, per_run = [], [], [], []
    for rec in records:
        versions = rec.get("versions") if isinstance(rec.get("versions"), dict) else {}
        cfg = rec["config"]
        idents.append({"run_id": rec["run_id"], "status": rec.get("status"),
                       "diverged_at": rec.get("diverged_at"), "seed": rec.get("seed", cfg.get("seed")),
                       "numerics": record_numerics(rec), "byzref": versions.get("byzref"),
                       "wall_time": _plain(rec.get("wall_time"))})
        flat = {k: _plain(v) for k, v in flatten(cfg).items() if k != "seed"}
        configs.append(flat)
        if summary:
            s = {f"summary.{k}": _number(v) for k, v in (rec.get("summary") or {}).items()}
            c = {f"constants.{k}": _number(v) for k, v in flatten(rec.get("constants") or {}).items()}
            extras.append((s, c))
        else:
            per_run.append(_curve_columns(rec, src.curves(rec)))

    if summary:
        s_cols = ["summary." + k for k in _known_first(
            (k[len("summary."):] for s, _ in extras for k in s), SUMMARY)]
        tail = [*s_cols, *sorted({k for _, c in extras for k in c})]
        values = [{**s, **c} for s, c in extras]
    else:
        tail = _known_first(set().union(*per_run) if per_run else (), CURVES)
        values = per_run
    reserved = {*IDENTITY, "method", *tail}
    rename = {k: (f"config.{k}" if k in reserved else k) for f in configs for k in f}
    head = [*IDENTITY, *(rename[k] for k in sorted(rename, key=_config_order)), "method"]
    columns = [*head, *tail]
    out = []
    for ident, flat, rec, vals in zip(idents, configs, records, values, strict=True):
        row = {**ident, **{rename[k]: v for k, v in flat.items()}, "method": method_label(rec)}
        fixed = [row.get(k) for k in head]
        if summary:
            out.append(fixed + [vals.get(k) for k in tail])
            continue
        cols = [vals.get(k) for k in tail]
        n = len(next(iter(vals.values()))) if vals else 0
        out.extend(fixed + [None if c is None else c[i] for c in cols] for i in range(n))
    return Table(columns, out, len(records), lines, summary)


def _curve_columns(rec: dict, curves: dict) -> dict[str, list]:
    """A run's curves as lists of Python scalars, all of one length (a ConfigError otherwise)."""
    out = {}
    for k, v in curves.items():
        a = np.asarray(v)
        if a.ndim != 1:
            raise ConfigError(f"run {rec['run_id']}: curve {k!r} has shape {a.shape}; a table needs one "
                              "value per checkpoint")
        out[k] = a.tolist()
    if len({len(v) for v in out.values()}) > 1:
        sizes = ", ".join(f"{k} {len(v)}" for k, v in out.items())
        raise ConfigError(f"run {rec['run_id']}: curves of different lengths ({sizes}); a table needs one "
                          "value per checkpoint")
    return out


def rows(path: str | os.PathLike, summary: bool = False, where=None) -> tuple[list[str], list[list]]:
    """``(columns, rows)`` of the runs at ``path``, without pandas (module docstring for the columns).

    Parameters
    ----------
    path : path
        A results store, a ``byzref verify --out`` folder or a ``byzref run --out`` folder.
    summary : bool, optional
        One row per run (``summary.*``, ``constants.*``) instead of one per checkpoint (the curves);
        default False.
    where : str, list, dict or None, optional
        Runs to keep, e.g. ``["attack=alie", "algorithm.gamma=0.1"]`` (see :func:`build`).

    Returns
    -------
    columns : list of str
        The column names.
    rows : list of list
        Values are plain Python ``int``/``float``/``str``/``bool``, or None where a run lacks a field.
    """
    t = build(path, summary=summary, where=where)
    return t.columns, t.rows


def _pandas():
    try:
        import pandas as pd
    except ImportError as exc:
        raise ImportError(f"a DataFrame or a Parquet file needs pandas and pyarrow: {EXTRA_HINT}") from exc
    return pd


def _frame(t: Table):
    """The table as a DataFrame: integer columns with gaps (and ``diverged_at``) as ``Int64``, booleans
    with gaps as ``boolean``, numbers with gaps as float64 (NaN)."""
    pd = _pandas()
    data = {}
    for j, name in enumerate(t.columns):
        vals = [r[j] for r in t.rows]
        present = [v for v in vals if v is not None]
        kinds = {type(v) for v in present}
        if (kinds == {int} and len(present) < len(vals)) or (name == "diverged_at" and not present):
            data[name] = pd.array(vals, dtype="Int64")
        elif kinds == {bool} and len(present) < len(vals):
            data[name] = pd.array(vals, dtype="boolean")
        elif kinds and kinds <= {int, float} and len(present) < len(vals):
            data[name] = np.array([math.nan if v is None else float(v) for v in vals], dtype=float)
        else:
            data[name] = pd.Series(vals, dtype=object).infer_objects()
    return pd.DataFrame(data, columns=t.columns)


def load(path: str | os.PathLike, summary: bool = False, where=None):
    """The runs at ``path`` as a pandas DataFrame (needs the ``table`` extra: pandas, pyarrow).

    Parameters
    ----------
    path : path
        A results store, a ``byzref verify --out`` folder or a ``byzref run --out`` folder.
    summary : bool, optional
        One row per run (``summary.*``, ``constants.*``) instead of one per checkpoint (the curves);
        default False.
    where : str, list, dict or None, optional
        Runs to keep, e.g. ``["attack=alie"]`` or ``{"algorithm.gamma": [0.1, 0.5]}`` (see :func:`build`).

    Returns
    -------
    pandas.DataFrame
        Columns as in the module docstring; integer columns with gaps as ``Int64``, booleans with
        gaps as ``boolean``, numbers with gaps as float64 (NaN).

    Raises
    ------
    ImportError
        Naming the extra, when pandas is missing.
    """
    _pandas()  # before any reading
    return _frame(build(path, summary=summary, where=where))


# --- writing -----------------------------------------------------------------------------------------
def _cell(v) -> str:
    """A CSV cell: floats by repr (exact round trip; ``inf``, ``-inf``, ``nan``), None empty."""
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(v)
    return str(v)


def _write_csv(t: Table, fh) -> None:
    w = csv.writer(fh, lineterminator="\n")
    w.writerow(t.columns)
    for r in t.rows:
        w.writerow([_cell(v) for v in r])


def _parquet_bytes(t: Table) -> bytes:
    """The table as Parquet bytes; a column mixing strings and numbers is written as strings."""
    pd = _pandas()
    try:
        import pyarrow  # noqa: F401
    except ImportError as exc:
        raise ImportError(f"a Parquet file needs pyarrow: {EXTRA_HINT}") from exc
    df = _frame(t)
    for name in df.columns:
        col = df[name]
        if col.dtype == object:
            kinds = {type(v) for v in col if v is not None}
            if len(kinds) > 1:
                df[name] = pd.Series([None if v is None else _cell(v) for v in col], dtype=object)
    buf = io.BytesIO()
    df.to_parquet(buf, engine="pyarrow", index=False)
    return buf.getvalue()


def _store_of(directory: Path) -> Path | None:
    """The results store that ``directory`` is (or whose ``curves`` folder it is), else None."""
    if (directory / "runs.jsonl").exists():
        return directory
    if directory.name == "curves" and (directory.parent / "runs.jsonl").exists():
        return directory.parent
    return None


def _target(out: str) -> tuple[Path, str]:
    """The file to write for ``-o out`` and its format ("csv" or "parquet"); a ConfigError when the
    suffix is neither, the folder is missing, ``out`` is a directory or lies in a results store."""
    p = Path(out)
    fmt = {".csv": "csv", ".parquet": "parquet"}.get(p.suffix.lower())
    if fmt is None:
        raise ConfigError(f"-o {out}: the output must end in .csv or .parquet (or be - for CSV on stdout)")
    if p.is_dir():
        raise ConfigError(f"-o {out} is a directory; expected a file path ending in .{fmt}")
    real = Path(os.path.realpath(p))  # a symlink: write its target, as other tools do
    if not real.parent.is_dir():
        raise ConfigError(f"-o {out}: the folder {real.parent} does not exist; create it first")
    store = _store_of(real.parent)
    if store is not None:
        raise ConfigError(f"-o {out} is inside the results store {store}; a table is derived data "
                          "and is never written into a store (write it elsewhere)")
    return real, fmt


def _write_atomic(target: Path, fill) -> None:
    """Write via ``fill(binary file)`` to a temporary file beside ``target``, fsync, rename onto it."""
    tmp = target.parent / _tmp_name(target.name)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666)
    except OSError as exc:
        raise ConfigError(f"-o {target}: cannot write in {target.parent} ({exc.strerror or exc})") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fill(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as exc:  # a full disk, a target that cannot be replaced: the old file stays
        raise ConfigError(f"-o {target}: cannot write ({exc.strerror or exc})") from None
    finally:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass


def write(t: Table, out: str | os.PathLike) -> Path:
    """Write ``t`` to ``out`` (.csv or .parquet by suffix), atomically; an existing file is replaced.

    CSV: a header line, then one line per row; floats by repr (they parse back to the same bits),
    ``inf``/``-inf``/``nan`` as such, missing values empty, lines ending in ``\\n``. Parquet: through
    pandas + pyarrow (the ``table`` extra).

    Parameters
    ----------
    t : Table
        The table (:func:`build`).
    out : str or os.PathLike
        A path ending in ``.csv`` or ``.parquet``, in an existing folder that is not a results store
        (a symlink is written through to its target).

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    ConfigError
        For a bad suffix, a missing folder, a directory, or a path inside a results store.
    """
    target, fmt = _target(str(out))
    if fmt == "parquet":
        data = _parquet_bytes(t)
        _write_atomic(target, lambda fh: fh.write(data))
    else:
        def fill(fh):
            text = io.TextIOWrapper(fh, encoding="utf-8", newline="")
            _write_csv(t, text)
            text.flush()
            text.detach()

        _write_atomic(target, fill)
    return target


def main_table(args) -> int:
    """``byzref table SOURCE [--summary] [--where KEY=VALUE ...] -o OUT.csv|OUT.parquet|-``.

    Bad input (a source without runs, an unknown ``--where`` key, a bad ``-o``, Parquet without the
    ``table`` extra) is a ConfigError, raised before anything is written.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line: ``source``, ``summary``, ``where`` and ``output`` (``-`` for CSV on
        stdout).

    Returns
    -------
    int
        0 (the table is written and a one-line report printed).
    """
    out = args.output
    if out != "-":
        _, fmt = _target(out)
        if fmt == "parquet":
            try:
                import pandas  # noqa: F401
                import pyarrow  # noqa: F401
            except ImportError:
                raise ConfigError(f"-o {out}: Parquet needs pandas and pyarrow: {EXTRA_HINT}") from None
    t = build(args.source, summary=args.summary, where=args.where)
    what = "run" if t.summary else "checkpoint"
    if out == "-":
        _write_csv(t, sys.stdout)
        dest, info = "stdout", sys.stderr
    else:
        dest, info = str(write(t, out)), sys.stdout
    print(f"table: {len(t.rows)} rows × {len(t.columns)} columns (one per {what}, {t.runs} runs) "
          f"written to {dest}", file=info)
    for line in t.lines:
        print(f"  {line}", file=info)
    return 0
