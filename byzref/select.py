"""Selection over a grid of finished runs: grouping, best step size per setting, max–min over attacks.

Analysis helpers only (no plotting). Inputs are run records as stored by :class:`byzref.store.ResultStore`
(dicts with ``"config"``, ``"status"`` and ``"summary"``) or :class:`byzref.results.Result` objects;
outputs keep the caller's objects. A *key* names a field of a run:

* ``"method"``: the method label (:func:`method_label`: the paper's spelling of the algorithm and the
  compressor name, e.g. ``"Byz-DM21, top_k"``; a config ``name`` is a sweep's title, not a method);
* ``"aggregator"``, ``"attack"``, ``"compressor"``, ``"problem"``, ``"algorithm"``: that component's name;
* any dotted path into the normalized config (``"algorithm.gamma"``, ``"f"``, ``"T"``, ``"seed"``,
  ``"compressor.k"``); ``"status"``: the run's status.

Ranking: the metric is a summary value, ``"avg_grad_sq"`` = (1/T) Σ_{t<T} ‖∇f(xᵗ)‖²
or ``"final_grad_sq"``; a diverged run, or a non-finite value, counts as +inf (worst). A setting's score
for one hyper-parameter value is the median over seeds; ties go to fewer diverged runs, then to the
smaller value (deterministic). See :ref:`guide-sweeps`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from byzref.errors import ConfigError

__all__ = ["DISPLAY_NAMES", "Selection", "best_step", "filter_runs", "flatten", "group", "key_value",
           "max_min_over_attacks", "method_label", "metric_value", "parse_where", "undetermined",
           "varying_keys"]

#: the paper's spellings of the algorithm names (Li, Liu, Yi, arXiv:2603.15144, and its baselines).
DISPLAY_NAMES = {"byz_dm21": "Byz-DM21", "byz_vr_dm21": "Byz-VR-DM21", "byz_ef21_sgdm": "Byz-EF21-SGDM",
                 "byz_ef21_sgd": "Byz-EF21-SGD", "byz_ef21": "Byz-EF21", "byz_vr_marina": "Byz-VR-MARINA",
                 "byz_dasha_page": "Byz-DASHA-PAGE", "br_csgd": "BR-CSGD", "br_diana": "BR-DIANA"}
_COMPONENTS = ("aggregator", "attack", "compressor", "problem", "algorithm")
METRICS = ("avg_grad_sq", "final_grad_sq", "final_f_gap")


def _record(run) -> dict:
    return run.record() if hasattr(run, "record") and callable(run.record) else run


def _hashable(v):
    return json.dumps(v, sort_keys=True) if isinstance(v, (dict, list)) else v


def flatten(config: dict, prefix: str = "") -> dict[str, Any]:
    """The config as ``{"dotted.path": value}`` (tables flattened, lists and scalars kept as leaves).

    Parameters
    ----------
    config : dict
        A (nested) config.
    prefix : str, optional
        Prepended to every path (default ``""``; the recursion passes ``"table."``).

    Returns
    -------
    dict
        Dotted path → value; list and dict leaves are JSON text (so that they are hashable).
    """
    out: dict[str, Any] = {}
    for k, v in config.items():
        if isinstance(v, dict):
            out.update(flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = _hashable(v)
    return out


def method_label(run) -> str:
    """``"<paper name>, <compressor>"`` (compressor left out when identity), e.g. ``"Byz-DM21, top_k"``.

    A config ``name`` is not used: a sweep copies its title into every run (:mod:`byzref.sweep`).

    Parameters
    ----------
    run : dict or Result
        A run record or result.

    Returns
    -------
    str
        The algorithm's name in :data:`DISPLAY_NAMES` (else its registered name), then the compressor.
    """
    cfg = _record(run)["config"]
    alg = cfg["algorithm"]["name"]
    comp = cfg.get("compressor", {}).get("name", "identity")
    name = DISPLAY_NAMES.get(alg, alg)
    return name if comp == "identity" else f"{name}, {comp}"


_MISSING = object()


def _lookup(run, key: str):
    rec = _record(run)
    if key == "method":
        return method_label(rec)
    if key == "status":
        return rec["status"]
    path = f"{key}.name" if key in _COMPONENTS else key
    return flatten(rec["config"]).get(path, _MISSING)


def key_value(run, key: str, default: Any = _MISSING):
    """The value of ``key`` (see the module docstring) for one run.

    Parameters
    ----------
    run : dict or Result
        A run record or result.
    key : str
        ``"method"``, ``"status"``, a component family (its name) or a dotted config path.
    default : object, optional
        Returned when the run has no such field; without it a missing field is an error.

    Returns
    -------
    object
        The value (list and dict values as JSON text).

    Raises
    ------
    ConfigError
        When the field is missing and no ``default`` is given; the message lists the fields.
    """
    v = _lookup(run, key)
    if v is _MISSING and default is not _MISSING:
        return default
    if v is _MISSING:
        flat = flatten(_record(run)["config"])
        raise ConfigError(f"runs have no field {key!r}; fields: method, status, {', '.join(sorted(flat))}")
    return v


def metric_value(run, metric: str) -> float:
    """The summary ``metric`` of a run; +inf when the run diverged or the value is not finite.

    Parameters
    ----------
    run : dict or Result
        A run record or result.
    metric : str
        ``"avg_grad_sq"``, ``"final_grad_sq"`` or ``"final_f_gap"``.

    Returns
    -------
    float
        The value; a stalled run keeps its finite value.
    """
    if metric not in METRICS:
        raise ConfigError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")
    rec = _record(run)
    if rec["status"] == "diverged":  # a stalled run has a finite metric and is ranked by it
        return math.inf
    v = float(rec["summary"][metric])  # "inf"/"nan" strings of the JSON record parse too
    return v if math.isfinite(v) else math.inf


def group(runs, keys) -> dict[tuple, list]:
    """Runs grouped by the tuple of their ``keys`` values, groups and members in order of appearance.

    A run without some key's field gets None there (e.g. ``algorithm.eta`` of a method without η); a key
    that no run has raises a ConfigError naming it.

    Parameters
    ----------
    runs : iterable
        Run records or results.
    keys : sequence of str
        Keys as for :func:`key_value`.

    Returns
    -------
    dict
        Tuple of key values → list of runs.
    """
    runs = list(runs)
    vals = [tuple(_lookup(r, k) for k in keys) for r in runs]
    for j, k in enumerate(keys):
        if runs and all(v[j] is _MISSING for v in vals):
            key_value(runs[0], k)  # raises with the list of fields
    out: dict[tuple, list] = {}
    for run, v in zip(runs, vals, strict=True):
        out.setdefault(tuple(None if x is _MISSING else x for x in v), []).append(run)
    return out


def varying_keys(runs, exclude=()) -> tuple[str, ...]:
    """Dotted config paths whose value differs between runs (sorted), except those in ``exclude``.

    A path set in some runs and absent in others counts as varying.

    Parameters
    ----------
    runs : iterable
        Run records or results.
    exclude : collection of str, optional
        Paths to leave out (default none).

    Returns
    -------
    tuple of str
    """
    flats = [flatten(_record(r)["config"]) for r in runs]
    paths = sorted(set().union(*flats)) if flats else []
    return tuple(p for p in paths if p not in exclude and len({f.get(p, "<unset>") for f in flats}) > 1)


def undetermined(runs, keys, exclude=()) -> tuple[str, ...]:
    """Varying config paths (not in ``exclude``) that are NOT constant within the groups of ``keys``.

    E.g. with keys ("method",) a method's own parameters (its compressor, η, p) are determined and left
    out, while a step-size grid or several aggregators remain: the fields still needed to tell runs apart.
    A component's parameter that its name already tells apart is left out too.

    Parameters
    ----------
    runs : iterable
        Run records or results.
    keys : sequence of str
        Keys (as for :func:`key_value`) that define the groups.
    exclude : collection of str, optional
        Paths to leave out (default none).

    Returns
    -------
    tuple of str
        Sorted dotted paths.
    """
    runs = list(runs)

    def varies(path, by) -> bool:
        return any(len({_hashable(_lookup(r, path)) if _lookup(r, path) is not _MISSING else "<unset>"
                        for r in g}) > 1 for g in group(runs, by).values())

    out = [p for p in varying_keys(runs, exclude=set(exclude)) if varies(p, keys)]
    # a component's parameter that its name already tells apart (ipm's eps beside sign_flip) is left out
    names = {p for p in out if p.endswith(".name")}
    return tuple(p for p in out if p in names or f"{p.split('.')[0]}.name" not in names
                 or varies(p, (*keys, f"{p.split('.')[0]}.name")))


def _rank(runs, metric) -> tuple[float, int]:
    vals = np.array([metric_value(r, metric) for r in runs])
    return float(np.median(vals)), sum(_record(r)["status"] == "diverged" for r in runs)


def _order(v):
    return (0, v, "") if isinstance(v, (int, float)) else (1, 0, str(v))


@dataclass
class Selection:
    """The outcome of a selection: chosen value and score per group, and the runs of the chosen values.

    Made by :func:`best_step` and :func:`max_min_over_attacks`; the parameters are kept as
    attributes of the same names.

    Parameters
    ----------
    param : str
        The key that was selected (``"algorithm.gamma"``).
    metric : str
        The summary metric that was minimised.
    group_by : tuple of str
        The key names of a group.
    chosen : dict, optional
        ``chosen[g]``: the selected ``param`` value of group ``g`` (a tuple of key values).
    scores : dict, optional
        ``scores[g][value]``: the score that was minimised (median over seeds, or worst median over
        attacks).
    runs : list, optional
        The input runs that have the chosen value of their group, in input order.
    """

    param: str
    metric: str
    group_by: tuple[str, ...]
    chosen: dict[tuple, Any] = field(default_factory=dict)
    scores: dict[tuple, dict] = field(default_factory=dict)
    runs: list = field(default_factory=list)


def _default_keys(runs, param, extra):
    return varying_keys(runs, exclude={param, "seed", *extra})


def best_step(runs, param: str = "algorithm.gamma", metric: str = "final_grad_sq",
              group_by=None) -> Selection:
    """For each setting, the ``param`` value with the best (smallest) median-over-seeds ``metric``.

    Diverged runs count as +inf; ties: fewer diverged runs, then the smaller value.

    Parameters
    ----------
    runs : iterable
        Run records or results.
    param : str, optional
        The key to select (default ``"algorithm.gamma"``).
    metric : str, optional
        Summary metric to minimise (default ``"final_grad_sq"``; see :func:`metric_value`).
    group_by : sequence of str or None, optional
        Key names defining a setting, e.g. ``("method", "aggregator", "attack")``; None (default)
        means every config field that varies between the runs except ``param`` and ``seed``.

    Returns
    -------
    Selection
    """
    runs = list(runs)
    keys = tuple(group_by) if group_by is not None else _default_keys(runs, param, ())
    sel = Selection(param, metric, keys)
    keep = set()
    for g, members in group(runs, keys).items():
        by_value = group(members, (param,))
        ranks = {v[0]: _rank(rs, metric) for v, rs in by_value.items()}
        best = min(ranks, key=lambda v: (*ranks[v], _order(v)))
        sel.chosen[g], sel.scores[g] = best, {v: r[0] for v, r in ranks.items()}
        keep.update(id(r) for r in by_value[(best,)])
    sel.runs = [r for r in runs if id(r) in keep]
    return sel


def max_min_over_attacks(runs, param: str = "algorithm.gamma", metric: str = "final_grad_sq",
                         over: str = "attack", group_by=None) -> Selection:
    """Per method (setting), the ``param`` value whose WORST median metric over the attacks is best.

    byzfl-style max–min tuning: for each group and value, the score is the maximum over
    the values of ``over`` (the attacks) of the median-over-seeds metric; a value missing some attack
    that the group has scores +inf. The chosen value minimises the score (ties: smaller value):

        v* = argmin_v max_a median_seeds metric(runs with value v, attack a).

    Parameters
    ----------
    runs : iterable
        Run records or results.
    param : str, optional
        The key to select (default ``"algorithm.gamma"``).
    metric : str, optional
        Summary metric (default ``"final_grad_sq"``; see :func:`metric_value`).
    over : str, optional
        The key maximised over (default ``"attack"``); it must not be in ``group_by``.
    group_by : sequence of str or None, optional
        Key names defining a setting; None (default): every varying config field except ``param``,
        ``seed`` and ``over``'s field.

    Returns
    -------
    Selection
        Its ``runs``: every run (all attacks) with its group's chosen value.
    """
    runs = list(runs)
    over_path = f"{over}.name" if over in _COMPONENTS else over
    keys = tuple(group_by) if group_by is not None else _default_keys(runs, param, (over_path,))
    if over in keys or over_path in keys:
        raise ConfigError(f"group_by must not contain the max-min axis {over!r}, got {keys}")
    sel = Selection(param, metric, keys)
    keep = set()
    for g, members in group(runs, keys).items():
        attacks = set(group(members, (over,)))
        by_value = group(members, (param,))
        scores = {}
        for (v,), rs in by_value.items():
            per = {a: _rank(ra, metric)[0] for a, ra in group(rs, (over,)).items()}
            scores[v] = math.inf if set(per) != attacks else max(per.values())
        best = min(scores, key=lambda v: (scores[v], _order(v)))
        sel.chosen[g], sel.scores[g] = best, scores
        keep.update(id(r) for r in by_value[(best,)])
    sel.runs = [r for r in runs if id(r) in keep]
    return sel


def parse_where(items) -> list[tuple[str, Any]]:
    """``["key=value", ...]`` (``--where``) as ``[(key, value), ...]``; values: TOML literals or bare text.

    ``attack=alie``, ``algorithm.gamma=0.05``, ``f=4``, ``aggregator="nnm+cwtm"``.

    Parameters
    ----------
    items : iterable of str or None
        The ``key=value`` texts; None gives an empty list.

    Returns
    -------
    list of tuple
        ``(key, value)`` pairs, the value parsed as a TOML literal when it is one, else the text.

    Raises
    ------
    ConfigError
        For an item without ``=`` or with an empty key.
    """
    import tomllib

    out = []
    for item in items or ():
        if "=" not in str(item):
            raise ConfigError(f"--where {item!r} has no '='; expected key=value, e.g. attack=alie")
        key, text = str(item).split("=", 1)
        key, text = key.strip(), text.strip()
        if not key:
            raise ConfigError(f"--where {item!r} has an empty key; expected key=value, e.g. attack=alie")
        try:
            value = tomllib.loads(f"v = {text}")["v"]
        except tomllib.TOMLDecodeError:
            value = text
        out.append((key, value))
    return out


def _matches(v, want) -> bool:
    if isinstance(v, bool) or isinstance(want, bool):
        return v is want or (isinstance(v, str) and v.lower() == str(want).lower())
    if isinstance(v, int | float) and isinstance(want, int | float):
        return float(v) == float(want)
    return str(v) == str(want)


def filter_runs(runs, conditions) -> list:
    """The runs that satisfy every condition: conditions on one key are OR-ed, different keys AND-ed.

    Numbers match numerically (``1`` matches ``1.0``), booleans also match ``"true"``/``"false"``,
    anything else by its text.

    Parameters
    ----------
    runs : iterable
        Run records or results.
    conditions : iterable of tuple
        ``[(key, value), ...]`` (:func:`parse_where`), keys as in :func:`key_value` (``"attack"`` is
        the attack's name, ``"algorithm.gamma"`` a dotted config path, ``"method"``, ``"status"``).

    Returns
    -------
    list
        The kept runs, in input order.

    Raises
    ------
    ConfigError
        For a key that no run has (listing the available keys), or a selection that leaves no run
        (listing the values the key takes).
    """
    runs = list(runs)
    by_key: dict[str, list] = {}
    for key, value in conditions:
        by_key.setdefault(key, []).append(value)
    for key, wanted in by_key.items():
        if runs and all(_lookup(r, key) is _MISSING for r in runs):
            key_value(runs[0], key)  # raises with the list of fields
        kept = [r for r in runs if any(_matches(_lookup(r, key), w) for w in wanted)]
        if not kept:
            have = sorted({str(_lookup(r, key)) for r in runs if _lookup(r, key) is not _MISSING})
            shown = ", ".join(have[:20]) + (f", ... ({len(have)} values)" if len(have) > 20 else "")
            raise ConfigError(f"--where {key}={', '.join(map(str, wanted))} matches no run; "
                              f"values of {key} here: {shown or '(none)'}")
        runs = kept
    return runs
