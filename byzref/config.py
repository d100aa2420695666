"""Run configurations: defaults, validation and construction of the components.

A run config is a plain dict (usually from TOML)::

    seed = 0
    n = 20
    f = 4
    T = 2000
    [problem]     name = "nonconvex_synthetic", d = 100, sigma2 = 1.0, ...
    [algorithm]   name = "byz_dm21", gamma = 0.05, eta = 0.1, ...
    [compressor]  name = "top_k", k = 10            (default identity)
    aggregator = "nnm+cwtm"                         (or a table; default "mean")
    [attack]      name = "alie", target = "state"   (default none)
    [record]      log = 200 | every = 10, grad_every = 1, diverge_at = 1e30
    protocol = "byzref"                             (or "released": the authors' simulator)

:func:`build` validates everything and builds every component before any work starts. See
:ref:`guide-engine` for what a run does and :ref:`guide-reproducibility` for run ids.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import os
import re
from dataclasses import dataclass
from typing import Any

from byzref.errors import ConfigError, check_choice, check_int, check_real, show

__all__ = ["NUMERICS", "PROTOCOLS", "RunSpec", "build", "normalize", "run_id"]

#: The numerics version: bumped whenever a change alters the numbers that a config and seed produce,
#: or the run id a config gets (2: byzref 0.2.0 draws the synthetic problems' Gaussian noise with
#: byzref.gaussian; 3: byzref 0.2.1 hashes the fully normalized config, so one run has one id; the
#: numbers are those of 2, except that gm now finishes, from a restart at the coordinate-wise median,
#: where rows beyond the float range used to crash it; 4: byzref 0.3.0 sums krum's scores, nnm's
#: neighbour means and gm's range test in a fixed order shared with the compiled engine instead of
#: NumPy's partition/BLAS/einsum order, so these rules' outputs change in the last bits). It is part of
#: every run id, so results stores and output folders never mix runs of two definitions, and a store of
#: an older version is never resumed into.
NUMERICS = 4

_TOP_KEYS = {"seed", "n", "f", "T", "problem", "algorithm", "compressor", "aggregator", "attack", "record",
             "name", "notes", "protocol"}
ATTACK_TARGETS = ("state", "message")
#: run-level protocols: byzref's own loop, or the conventions of the Byz-DM21 authors' released simulator
PROTOCOLS = ("byzref", "released")
#: under protocol "released": the one attack target, the algorithms and attacks that simulator has
RELEASED_TARGET = "released"
RELEASED_ALGORITHMS = ("byz_dm21", "byz_vr_dm21", "byz_ef21_sgdm")
RELEASED_ATTACKS = ("none", "ipm", "alie", "sign_flip")

#: the largest horizon accepted: 10⁹ iterations are hours even for the compiled loop at d = 100
MAX_T = 10**9
#: the most log-spaced checkpoints asked for (they are computed as an array before duplicates go)
MAX_LOG_POINTS = 10**7
#: a stage parameter of an aggregator pipeline that is a scalar can go into the canonical spec string
_SCALARS = (bool, int, float, str)


def _table(cfg: dict, key: str, default: Any) -> dict:
    value = cfg.get(key, default)
    if isinstance(value, str):
        value = {"name": value}
    if not isinstance(value, dict) or "name" not in value:
        raise ConfigError(f"'{key}' must be a name or a table with a 'name' field, got {value!r}")
    return dict(value)


def _coerce(value: Any, default: Any) -> Any:
    """One spelling per number: an int where the parameter is an integer, a float where it is real.

    ``default`` is the constructor's default; with ``None`` an integral float becomes an int (a
    problem's validator accepts either, so only the spelling changes, never the value).
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if isinstance(default, float) and not isinstance(default, bool) and isinstance(value, int):
        return float(value) if abs(value) < 2**1023 else value
    if (default is None or (isinstance(default, int) and not isinstance(default, bool))) \
            and isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _canonical_problem(table: dict) -> dict:
    """The problem table with every constructor default written out and numbers in one spelling."""
    import inspect

    from byzref.registry import constructor_signature
    from problems import PROBLEMS

    cls = PROBLEMS.get(table["name"])
    out = {"name": PROBLEMS.canonical(table["name"])}  # a user problem by its import path
    sig = constructor_signature(cls).parameters
    for key, par in sig.items():
        if key in ("n", "f", "rng") or par.kind not in (par.POSITIONAL_OR_KEYWORD, par.KEYWORD_ONLY):
            continue
        default = None if par.default is inspect.Parameter.empty else par.default
        value = _coerce(table.get(key, default), default)
        if value is not None:
            out[key] = value
    out.update({k: v for k, v in table.items() if k not in out and k not in sig})  # refused by build()
    return out


def _canonical_component(registry, table: dict, **context) -> dict:
    """``{"name", **params}`` of the built component: defaults written out, numbers as validated; a
    user component is named by its class's import path (an entry-point name becomes that path)."""
    obj = registry.build(table, **context)
    params = {k: v for k, v in obj.params().items() if v is not None and k not in context}
    return {"name": registry.canonical(table["name"]), **params}


def _spec_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", v) and v.lower() not in ("true", "false", "none"):
        return v
    return f"'{v}'"


def _canonical_aggregator(table: dict, f: int, n: int) -> dict:
    """One spec string per pipeline: every stage as ``name(key=value, ...)`` listing only what makes its
    output differ from the stage with default parameters at the run's f (each stage's
    ``number_params`` at the rows it sees: ``cwtm(f=1)`` and ``cwtm(b=1)`` are one rule, ``krum(m_nb=6)``
    at n = 10, f = 2 is ``krum``, ``mean(f=1)`` is ``mean``); an array-valued parameter of the last
    stage (cclip's centre) stays a field of the table."""
    from byzref.aggregators.base import AGGREGATORS, PRE_AGGREGATORS
    from byzref.aggregators.pipeline import Pipeline, build_aggregator

    agg = build_aggregator(table if len(table) > 1 else table["name"], f=f)
    stages = [*agg.pre, agg.final] if isinstance(agg, Pipeline) else [agg]
    parts, fields, rows = [], {}, n
    for i, stage in enumerate(stages):
        last = i == len(stages) - 1
        registry = AGGREGATORS if last else PRE_AGGREGATORS
        mine = stage.number_params(rows)
        base = registry.build({"name": stage.name}, f=f).number_params(rows)
        args = []
        for key, value in mine.items():
            if key in base and _same(value, base[key]):
                continue
            if isinstance(value, _SCALARS):
                args.append(f"{key}={_spec_value(value)}")
            elif last:
                fields[key] = _as_list(value)
            else:
                raise ConfigError(f"aggregator stage {stage.name!r}: parameter {key} must be a scalar")
        parts.append(f"{stage.name}({','.join(args)})" if args else stage.name)
        if not last:
            rows = stage.out_rows(rows)
    return {"name": "+".join(parts), **fields}


@functools.lru_cache(maxsize=256)
def _every_iteration(T: int, log: int) -> bool:
    """Whether ``log`` log-spaced checkpoints over T iterations are all of 0..T (then the record is
    spelled ``every = 1``: the same curves, one id)."""
    from byzref.engine import checkpoints

    return len(checkpoints(T, {"log": log})) == T + 1


def _same(a: Any, b: Any) -> bool:
    try:
        return type(a) is type(b) and bool(a == b)
    except (TypeError, ValueError):
        return False


def _as_list(value: Any) -> Any:
    tolist = getattr(value, "tolist", None)
    return tolist() if tolist is not None else list(value)


def normalize(config: dict) -> dict:
    """Return the canonical copy of ``config``: defaults filled in, one spelling per value.

    Two configs that describe the same run normalize to the same dict (and so get the same
    :func:`run_id`): component parameters are validated by building the (cheap) algorithm,
    compressor, aggregator and attack and taking their parameters back (``gamma = 1`` and
    ``gamma = 1.0`` are one value, ``eta2`` defaults to ``eta``), the problem table gets every
    constructor default written out, and an aggregator pipeline becomes one spec string that lists
    only the non-default parameters of each stage (``"cwtm()"`` is ``"cwtm"``). The problem
    instance itself is not built here.

    Parameters
    ----------
    config : dict
        A run config (top-level keys ``seed``, ``n``, ``f``, ``T``, ``problem``, ``algorithm``,
        ``compressor``, ``aggregator``, ``attack``, ``record``, ``protocol``, ``name``, ``notes``);
        ``problem``, ``algorithm`` and ``T`` are required. It is not modified.

    Returns
    -------
    dict
        The canonical config: ``seed`` (default 0), ``n`` (default 1), ``f`` (default 0), ``T``,
        the component tables with every parameter, ``attack.target`` (default ``"state"``),
        ``record`` with ``log`` (default 200) or ``every``, ``grad_every`` (default 1) and
        ``diverge_at`` (default 1e30); ``protocol`` only when it is ``"released"``.

    Raises
    ------
    ConfigError
        For an unknown key, a missing table or an invalid value.
    """
    if not isinstance(config, dict):
        raise ConfigError(f"a run config must be a dict/table, got {type(config).__name__}")
    unknown = sorted(set(config) - _TOP_KEYS)
    if unknown:
        raise ConfigError(
            f"unknown top-level key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_TOP_KEYS))}"
        )
    cfg = copy.deepcopy(config)
    for key in ("problem", "algorithm"):
        if key not in cfg:
            raise ConfigError(f"run config has no '{key}' table; a run config needs [problem] and "
                              "[algorithm] "
                              f"tables, e.g. [{key}] name = \"...\"")
    out: dict[str, Any] = {
        "seed": check_int("seed", cfg.get("seed", 0), 0),
        "n": check_int("n", cfg.get("n", 1), 1),
        "T": check_int("T", cfg.get("T"), 1) if "T" in cfg else None,
        "problem": _table(cfg, "problem", None),
        "algorithm": _table(cfg, "algorithm", None),
        "compressor": _table(cfg, "compressor", "identity"),
        "aggregator": _table(cfg, "aggregator", "mean"),
        "attack": _table(cfg, "attack", "none"),
        "record": cfg.get("record", {}),
    }
    if out["T"] is None:
        raise ConfigError(f"T (number of iterations) is required; allowed range [1, {MAX_T}]")
    if out["T"] > MAX_T:
        raise ConfigError(f"T = {out['T']} is outside the allowed range [1, {MAX_T}]; split a longer "
                          "horizon into several runs")
    if not isinstance(out["record"], dict):
        raise ConfigError(f"record = {out['record']!r} must be a table such as {{log = 200}} or "
                          "{every = 10} (fields: every, log, grad_every, diverge_at)")
    out["record"] = dict(out["record"])
    out["f"] = check_int("f", cfg.get("f", 0), 0, out["n"] - 1)
    for key in ("n", "f"):
        if key in out["problem"]:
            raise ConfigError(f"problem.{key} = {out['problem'][key]!r} is not allowed in [problem]; "
                              f"set '{key}' at the top level of the run config")
    protocol = check_choice("protocol", cfg.get("protocol", "byzref"), PROTOCOLS)
    if protocol == "released":
        out["attack"].setdefault("target", RELEASED_TARGET)
        if out["attack"]["target"] != RELEASED_TARGET:
            raise ConfigError(f"attack.target = {show(out['attack']['target'])} is not supported under "
                              f"protocol = 'released'; allowed: {RELEASED_TARGET!r} (the authors' server "
                              "rule, the default there)", field="attack.target")
    else:
        out["attack"].setdefault("target", "state")
        if out["attack"]["target"] == RELEASED_TARGET:
            raise ConfigError(f"attack.target = {RELEASED_TARGET!r} needs protocol = 'released'; allowed "
                              f"under protocol = 'byzref': {', '.join(ATTACK_TARGETS)}",
                              field="attack.target")
        check_choice("attack.target", out["attack"]["target"], ATTACK_TARGETS)
    rec = out["record"]
    allowed = {"every", "log", "grad_every", "diverge_at"}
    bad = sorted(set(rec) - allowed)
    if bad:
        raise ConfigError(f"unknown record option(s) {', '.join(bad)}; allowed: {', '.join(sorted(allowed))}")
    if "every" in rec and "log" in rec:
        raise ConfigError(f"record has both every = {rec['every']!r} and log = {rec['log']!r}; "
                          "allowed: one of them")
    if "every" not in rec:
        rec.setdefault("log", 200)
    rec.setdefault("grad_every", 1)
    rec.setdefault("diverge_at", 1e30)
    for k in ("every", "log", "grad_every"):
        if k in rec:
            rec[k] = check_int(f"record.{k}", rec[k], 1, MAX_LOG_POINTS if k == "log" else None)
    if rec["grad_every"] > out["T"]:
        raise ConfigError(f"record.grad_every = {rec['grad_every']} is outside the allowed range "
                          f"[1, T = {out['T']}]")
    rec["diverge_at"] = check_real("record.diverge_at", rec["diverge_at"], 0.0, None, lo_open=True)
    from byzref.aggregators import AGGREGATORS  # noqa: F401  (registers the aggregators)
    from byzref.algorithms import ALGORITHMS
    from byzref.attacks import ATTACKS
    from byzref.compressors import COMPRESSORS

    out["algorithm"] = _canonical_component(ALGORITHMS, out["algorithm"])
    out["compressor"] = _canonical_component(COMPRESSORS, out["compressor"])
    target = out["attack"].pop("target")
    out["attack"] = {**_canonical_component(ATTACKS, out["attack"]), "target": target}
    out["aggregator"] = _canonical_aggregator(out["aggregator"], out["f"], out["n"])
    if "log" in rec and rec["log"] >= out["T"] + 1 and _every_iteration(out["T"], rec["log"]):
        rec = out["record"] = {"every": 1, **{k: v for k, v in rec.items() if k != "log"}}
    out["problem"] = _canonical_problem(out["problem"])
    if protocol == "released":  # the default "byzref" stays out of the canonical form (run ids unchanged)
        _check_released(out)
        out["protocol"] = protocol
    for k in ("name", "notes"):
        if k in cfg:
            out[k] = cfg[k]
    return out


def _check_released(cfg: dict) -> None:
    """Refuse, in one line, what the authors' released simulator does not have (protocol "released").

    It has Byz-DM21 in its released form (``variant = "released"``), Byz-VR-DM21 with the released
    initialisation (``init = "released"``) and Byz-EF21-SGDM; the attacks IPM, ALIE (μ − z·σ with z
    from (n, f) by "baruch" or a number) and sign flip in its released form (``form = "released"``);
    with no attack (NA) it drops the Byzantine workers, so ``none`` needs f = 0.
    """
    alg, att, f = cfg["algorithm"], cfg["attack"], cfg["f"]
    where = "is not supported under protocol = 'released'"
    if alg["name"] not in RELEASED_ALGORITHMS:
        raise ConfigError(f"algorithm {alg['name']!r} {where}; allowed: {', '.join(RELEASED_ALGORITHMS)}",
                          field="algorithm.name")
    need = {"byz_dm21": ("variant", "released"), "byz_vr_dm21": ("init", "released")}.get(alg["name"])
    if need is not None and alg.get(need[0]) != need[1]:
        raise ConfigError(f"algorithm.{need[0]} = {show(alg.get(need[0]))} {where} for {alg['name']!r}; "
                          f"allowed: {need[1]!r} (the authors' worker)", field=f"algorithm.{need[0]}")
    if att["name"] not in RELEASED_ATTACKS:
        raise ConfigError(f"attack {att['name']!r} {where}; allowed: {', '.join(RELEASED_ATTACKS)}",
                          field="attack.name")
    if att["name"] == "none" and f > 0:
        raise ConfigError(f"attack 'none' with f = {f} {where} (the released code drops the Byzantine "
                          "workers when there is no attack); allowed: f = 0", field="f")
    if att["name"] == "sign_flip" and att.get("form") != "released":
        raise ConfigError(f"attack sign_flip with form = {show(att.get('form', 'mean'))} {where}; allowed: "
                          "form = 'released' (negate one random good message)", field="attack.form")
    if att["name"] == "alie" and (att.get("sign") != -1 or att.get("z") == "baruch_original"):
        raise ConfigError(f"attack alie with sign = {show(att.get('sign'))}, z = {show(att.get('z'))} "
                          f"{where}; allowed: sign = -1 with z = 'baruch' or a number (the authors' μ − z·σ)",
                          field="attack")


def _file_digest(path: str) -> str | None:
    """sha256 of a file's bytes (cached by its real path, size and modification time); None if unreadable."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return _digest(os.path.realpath(path), st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _digest(real: str, size: int, mtime_ns: int) -> str | None:
    h = hashlib.sha256()
    try:
        with open(real, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    except OSError:
        return None
    return h.hexdigest()


def run_id(cfg: dict) -> str:
    """Deterministic id of a normalized config: the first 16 hex digits of sha256(canonical JSON).

    The JSON holds the config (without its free-text "name" and "notes") and :data:`NUMERICS`; a
    data file (``problem.path``, LIBSVM) enters by the sha256 of its bytes, so the same file under two
    spellings is one run and an edited file is another. See :ref:`guide-reproducibility`.

    Parameters
    ----------
    cfg : dict
        A config as :func:`normalize` returns it (an unnormalized one gets an id too, but two
        spellings of one run then get two ids).

    Returns
    -------
    str
        16 lowercase hex digits.
    """
    body = {k: v for k, v in cfg.items() if k not in ("name", "notes")}
    path = body.get("problem", {}).get("path")
    if isinstance(path, str):  # a data file counts by its content, not by how its path is spelled
        digest = _file_digest(path)
        if digest is not None:
            body = {**body, "problem": {**body["problem"], "path": f"sha256:{digest}"}}
    text = json.dumps({"config": body, "numerics": NUMERICS}, sort_keys=True, separators=(",", ":"),
                      default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class RunSpec:
    """A validated config with every component built (fresh, stateless instances).

    Made by :func:`build`; :func:`byzref.engine.run` accepts one in place of a config dict.

    Parameters
    ----------
    cfg : dict
        The normalized config (:func:`normalize`).
    problem : Problem
        The problem instance, built on the "problem" stream of the run's seed.
    algorithm : Algorithm
        The algorithm.
    compressor : Compressor
        The compressor.
    aggregator : Aggregator or Pipeline
        The aggregation rule, with its pre-aggregators when there are any.
    attack : Attack
        The attack (``none`` when f = 0 and no attack is named).
    target : str
        The attack target: ``"state"``, ``"message"`` or (protocol "released") ``"released"``.
    """

    cfg: dict
    problem: Any
    algorithm: Any
    compressor: Any
    aggregator: Any
    attack: Any
    target: str


def _dry_run_attack(attack, n: int, f: int) -> None:
    """Call the attack once on stand-in rows so that (n, f)-dependent checks (ALIE's z and its
    sample std, mimic's index, ...) fail before any work starts."""
    import numpy as np

    from byzref.attacks.base import AttackContext

    H = np.arange(2.0 * (n - f)).reshape(n - f, 2)
    rows = np.zeros((f, 2))
    ctx = AttackContext(n=n, f=f, t=0, aggregate=lambda X: X.mean(axis=0), own_rows=lambda: rows,
                        flipped_rows=lambda: rows)
    attack(H, ctx, np.random.default_rng(0))


def memory_estimate(cfg: dict, d: int, aggregator=None) -> float:
    """Bytes a run of the normalized ``cfg`` in dimension ``d`` needs, not counting the problem's data.

    The server rows, the workers' rows and momenta and the oracle's buffers are about eight (n, d)
    float64 arrays for the methods here; the curves are eight float64 values per checkpoint; a
    minibatch draws (n, batch) sample indices (and their random numbers) per gradient call; the
    aggregator declares its own peak (``memory(n, d)``: (n, n) distance matrices for nnm and krum,
    sorting networks for the coordinate-wise rules).
    """
    n, T, rec = cfg["n"], cfg["T"], cfg["record"]
    points = T // rec["every"] + 2 if "every" in rec else min(rec["log"], T + 1) + 2
    batch = cfg["algorithm"].get("batch", 1)
    agg = aggregator.memory(n, d) if aggregator is not None else 0.0
    return 8.0 * 8 * n * d + 8.0 * 8 * points + 8.0 * 2 * n * batch + agg


def _check_memory(cfg: dict, d: int, aggregator) -> None:
    from byzref.resources import check_memory

    rec = cfg["record"]
    points = f"record.every = {rec['every']}" if "every" in rec else f"record.log = {rec['log']}"
    batch = cfg["algorithm"].get("batch", 1)
    minibatch = f"algorithm.batch = {batch}, " if batch > 1 else ""
    agg = cfg["aggregator"]["name"]
    check_memory(f"a run with n = {cfg['n']}, d = {d}, aggregator {agg!r}, {minibatch}{points} over "
                 f"T = {cfg['T']}", memory_estimate(cfg, d, aggregator),
                 allowed="a smaller n (the (n, n) matrices of nnm and krum grow as n²), d or number of "
                 "checkpoints")


def build(config: dict, problem_rng=None) -> RunSpec:
    """Normalize, validate and build every component; raises ConfigError before any work starts.

    Besides each component's own checks it refuses a preset (a non-Byzantine method) with f > 0,
    a compressor the algorithm cannot use, a run whose arrays cannot fit in the available memory,
    and ``label_flip`` on a problem without labels; with f > 0 it calls the attack once on
    stand-in rows so that checks that depend on (n, f) fail here.

    Parameters
    ----------
    config : dict
        A run config (see :func:`normalize`).
    problem_rng : numpy.random.Generator, optional
        The stream the problem instance is drawn from; default None uses
        ``byzref.rng.stream(seed, "problem")``.

    Returns
    -------
    RunSpec
        The normalized config and the built components.

    Raises
    ------
    ConfigError
        For any invalid value or combination, in one line.
    """
    from byzref import rng as rngmod
    from byzref.aggregators.pipeline import build_aggregator
    from byzref.algorithms import ALGORITHMS
    from byzref.attacks import ATTACKS
    from byzref.compressors import COMPRESSORS
    from problems import PROBLEMS

    cfg = normalize(config)
    n, f = cfg["n"], cfg["f"]
    alg_cls = ALGORITHMS.get(cfg["algorithm"]["name"])
    if alg_cls.preset_of is not None:
        agg_name = cfg["aggregator"]["name"]
        if f != 0 or agg_name != "mean" or cfg["attack"]["name"] != "none":
            raise ConfigError(
                f"algorithm {alg_cls.name!r} is the non-Byzantine preset of {alg_cls.preset_of!r}: it needs "
                f"f = 0, aggregator 'mean' and attack 'none' (got f = {f}, aggregator {agg_name!r}, "
                f"attack {cfg['attack']['name']!r}); use {alg_cls.preset_of!r} instead"
            )
    algorithm = ALGORITHMS.build(cfg["algorithm"])
    compressor = COMPRESSORS.build(cfg["compressor"])
    algorithm.check_compressor(compressor)
    attack_cfg = {k: v for k, v in cfg["attack"].items() if k != "target"}
    attack = ATTACKS.build(attack_cfg)
    agg_cfg = cfg["aggregator"]
    aggregator = build_aggregator(agg_cfg if len(agg_cfg) > 1 else agg_cfg["name"], f=f)
    aggregator.check(n)
    d_given = cfg["problem"].get("d")
    if isinstance(d_given, int) and d_given > 0:
        _check_memory(cfg, d_given, aggregator)  # before the problem allocates anything
    if problem_rng is None:
        problem_rng = rngmod.stream(cfg["seed"], "problem")
    problem = PROBLEMS.build({**cfg["problem"], "n": n, "f": f}, rng=problem_rng)
    _check_memory(cfg, problem.d, aggregator)
    compressor.check(problem.d)
    aggregator.check_dim(problem.d)
    if attack.name == "label_flip" and not problem.supports_label_flip:
        raise ConfigError(f"attack 'label_flip' needs a problem with labels; {problem.name!r} has none")
    if f > 0:
        _dry_run_attack(attack, n, f)
    return RunSpec(cfg, problem, algorithm, compressor, aggregator, attack, cfg["attack"]["target"])
