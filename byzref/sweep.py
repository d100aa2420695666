"""Sweeps: grids of run configs from a TOML file, run on any ``concurrent.futures.Executor`` into a
resumable :class:`~byzref.store.ResultStore`.

A sweep file is a run config in which every list-valued field is a grid axis, plus an optional
``[[case]]`` array of partial configs, each deep-merged into the base (paired choices)::

    name = "demo"                      # optional; kept out of the run ids (so are notes)
    seed = [0, 1, 2]
    n = 20
    f = [0, 4]
    T = 2000
    aggregator = ["nnm+cwtm", "cwmed"]
    [problem]
    name = "quadratic"
    [algorithm]
    gamma = [0.5, 0.05]
    [[case]]
    algorithm.name = "byz_ef21"
    compressor = {name = "top_k", k = 10}
    [[case]]
    algorithm.name = "byz_vr_marina"
    compressor = {name = "rand_k", k = 10}

Grid = cases × product(axes); order: cases in file order, then axes in file order with the last axis
fastest (``itertools.product`` order); configs with equal run ids collapse to the first.
:func:`expand` validates every config with :func:`byzref.config.build` before anything runs. See
:ref:`guide-sweeps`.
"""

from __future__ import annotations

import copy
import json
import os
import sys
from collections.abc import Iterable
from typing import Any

from byzref._sweep_exec import SerialExecutor, process_pool, run_sweep
from byzref.config import normalize, run_id
from byzref.errors import ConfigError

__all__ = ["SerialExecutor", "expand", "load_sweep", "main_sweep", "process_pool", "run_sweep"]


# --- grid expansion --------------------------------------------------------------------------------
def _merge(base: dict, part: dict) -> dict:
    """Deep merge: tables merge key by key, anything else in ``part`` replaces."""
    out = copy.deepcopy(base)
    for k, v in part.items():
        both = isinstance(v, dict) and isinstance(out.get(k), dict)
        out[k] = _merge(out[k], v) if both else copy.deepcopy(v)
    return out


def _first_axis(node: Any, path: tuple = ()) -> tuple | None:
    """Path of the first list-valued field (depth-first, file order); top-level name/notes excluded."""
    if isinstance(node, list):
        return path
    if isinstance(node, dict):
        for k, v in node.items():
            if not path and k in ("name", "notes"):
                continue
            p = _first_axis(v, (*path, k))
            if p is not None:
                return p
    return None


def _grid(cfg: dict, where: tuple) -> Iterable[tuple[dict, tuple]]:
    path = _first_axis(cfg)
    if path is None:
        yield cfg, where
        return
    node = cfg
    for k in path[:-1]:
        node = node[k]
    values = node[path[-1]]
    if not values:
        raise ConfigError(f"sweep axis '{'.'.join(path)}' = [] is empty; an axis needs at least one value")
    for v in values:
        node[path[-1]] = v
        yield from _grid(copy.deepcopy(cfg), (*where, f"{'.'.join(path)}={v!r}"))
    node[path[-1]] = values


def _points(sweep: dict) -> list[tuple[dict, str]]:
    if not isinstance(sweep, dict):
        raise ConfigError(f"a sweep must be a table, got {type(sweep).__name__}")
    base = {k: v for k, v in sweep.items() if k != "case"}
    cases = sweep.get("case", [{}])
    if not isinstance(cases, list) or not all(isinstance(c, dict) for c in cases):
        raise ConfigError(f"case = {cases!r} must be an array of tables ([[case]])")
    if not cases:
        raise ConfigError("case = [] is empty; it needs at least one [[case]] table (or leave it out)")
    out = []
    for i, case in enumerate(cases):
        label = (f"case {i + 1}",) if "case" in sweep else ()
        out += [(cfg, ", ".join(where) or "the only run") for cfg, where in _grid(_merge(base, case), label)]
    return out


def expand(sweep: dict, validate: bool = True) -> list[dict]:
    """Normalized run configs of a sweep, in grid order, duplicates (equal run ids) collapsed.

    Parameters
    ----------
    sweep : dict
        A sweep table (a run config whose list-valued fields are axes, plus an optional ``case``
        array of partial configs).
    validate : bool, optional
        Build every config (:func:`byzref.config.build`) first (default True), so a bad sweep
        fails up front; one problem instance per problem table, n and f is built for the check.

    Returns
    -------
    list of dict
        Normalized run configs, cases × product(axes), configs with equal run ids collapsed to the
        first.

    Raises
    ------
    ConfigError
        Naming the grid point and the field, for an empty axis or an invalid config.
    """
    seen: dict[str, tuple[dict, str]] = {}
    for cfg, where in _points(sweep):
        try:
            ncfg = normalize(cfg)
        except ConfigError as exc:
            raise ConfigError(f"sweep point [{where}]: {exc}") from exc
        seen.setdefault(run_id(ncfg), (ncfg, where))
    if validate:
        _validate(seen.values())
    return [c for c, _ in seen.values()]


def _validate(points: Iterable[tuple[dict, str]]) -> None:
    from byzref.config import build
    from problems import PROBLEMS

    # Validity does not depend on the seed (it only draws the problem instance), and one problem
    # instance per (problem table, n, f) is enough to check the others against: building problems
    # dominates the cost (about 0.1 s each), so they are built once here.
    cache: dict[str, Any] = {}
    real = PROBLEMS.build

    def cached(cfg, **context):
        key = json.dumps(cfg, sort_keys=True, default=str)
        if key not in cache:
            cache[key] = real(cfg, **context)
        return cache[key]

    checked = set()
    PROBLEMS.build = cached
    try:
        for cfg, where in points:
            key = run_id({**cfg, "seed": 0})
            if key in checked:
                continue
            checked.add(key)
            try:
                build(cfg)
            except (ValueError, TypeError, KeyError) as exc:  # ConfigError is a ValueError
                raise ConfigError(f"sweep point [{where}]: {exc}") from exc
    finally:
        del PROBLEMS.build  # back to the class's method


def load_sweep(path: str | os.PathLike, overrides: Iterable[str] = ()) -> dict:
    """Read a sweep file (TOML) and apply ``key.sub=value`` overrides (a list value makes an axis).

    Parameters
    ----------
    path : str or os.PathLike
        The TOML file.
    overrides : iterable of str, optional
        ``--set`` texts such as ``"algorithm.gamma=[0.1, 0.01]"`` (default none).

    Returns
    -------
    dict
        The sweep table, for :func:`expand`.
    """
    from byzref.cli import apply_overrides, read_toml

    return apply_overrides(read_toml(str(path), "sweep"), list(overrides))


# --- command line ----------------------------------------------------------------------------------
def _dask_executor(address: str):
    try:
        from distributed import Client
    except ImportError as exc:
        raise ConfigError("--scheduler needs dask.distributed: pip install 'byzref[dask]'") from exc
    try:
        client = Client(address, timeout=30)
    except OSError as exc:
        raise ConfigError(f"--scheduler {address!r}: cannot reach the dask scheduler ({exc})") from exc
    return client, client.get_executor()


def main_sweep(args) -> int:
    """``byzref sweep FILE --out DIR [--workers N] [--scheduler ADDRESS] [--set k=v ...]``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line: ``sweep`` (the file), ``out``, ``workers``, ``scheduler`` and
        ``set``.

    Returns
    -------
    int
        Exit status 0 when every run finished (ok, stalled or diverged), 1 when some raised (see
        DIR/failures.jsonl), 130 when interrupted. Bad input raises a ConfigError before any run
        starts (the command line turns it into exit status 2).
    """
    from byzref.cli import check_out, check_workers
    from byzref.progress import Progress, fmt_seconds
    from byzref.store import ResultStore

    check_workers(args.workers)
    check_out(args.out)
    if os.path.lexists(args.out) and not os.path.isdir(args.out):
        raise ConfigError(f"--out {args.out!r} exists and is not a directory; expected a results store "
                          "directory")

    sweep = load_sweep(args.sweep, args.set or [])
    configs = expand(sweep)
    ids = {run_id(c) for c in configs}
    client = executor = None
    if args.scheduler:  # connect before the store is created: a refusal leaves nothing behind
        client, executor = _dask_executor(args.scheduler)
        where = f"dask scheduler {args.scheduler}"
    else:
        workers = args.workers if args.workers is not None else (os.cpu_count() or 1)
        where = "this process" if workers <= 1 else f"{workers} worker processes"
    try:
        stored = len(ids & ResultStore(args.out).finished_ids())
    except BaseException:
        if client is not None:
            client.close()
        raise
    name = f" {sweep['name']!r}" if isinstance(sweep.get("name"), str) else ""
    print(f"byzref sweep{name}: {len(ids)} runs, {stored} already in {args.out}, "
          f"{len(ids) - stored} to run on {where}", flush=True)
    progress = Progress("runs")
    try:
        s = run_sweep(configs, args.out, executor=executor, workers=args.workers, progress=progress)
    except KeyboardInterrupt:
        progress.close()
        print("interrupted: finished runs are stored; rerun the same command to resume", file=sys.stderr)
        return 130
    finally:
        progress.close()
        if client is not None:
            client.close()
    print(f"done: {s['ok']} ok, {s['stalled']} stalled, {s['diverged']} diverged, {s['failed']} failed "
          f"(+ {s['skipped']} already stored) in {fmt_seconds(s['wall_time'])}; store {s['store']}")
    if s["stalled"] or s["diverged"]:
        print(f"byzref: warning: {s['stalled']} run(s) stalled and {s['diverged']} diverged; their "
              "records say so (status in runs.jsonl)", file=sys.stderr)
    if s["failed"]:
        print(f"{s['failed']} run(s) raised; see {s['store']}/failures.jsonl (a rerun retries them)",
              file=sys.stderr)
    return 1 if s["failed"] else 0
