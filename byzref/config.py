"""Run configurations: defaults, validation and construction of the components (SPEC §4, §5).

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

:func:`build` validates everything and builds every component before any work starts.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from byzref.errors import ConfigError, check_choice, check_int, check_real

__all__ = ["NUMERICS", "RunSpec", "build", "normalize", "run_id"]

# The numerics version: bumped whenever a change alters the numbers that a config and seed produce
# (2: byzref 0.2.0 draws the synthetic problems' Gaussian noise with byzref.gaussian). It is part of
# every run id, so results stores and output folders never mix runs of two definitions.
NUMERICS = 2

_TOP_KEYS = {"seed", "n", "f", "T", "problem", "algorithm", "compressor", "aggregator", "attack", "record",
             "name", "notes"}
ATTACK_TARGETS = ("state", "message")


def _table(cfg: dict, key: str, default: Any) -> dict:
    value = cfg.get(key, default)
    if isinstance(value, str):
        value = {"name": value}
    if not isinstance(value, dict) or "name" not in value:
        raise ConfigError(f"'{key}' must be a name or a table with a 'name' field, got {value!r}")
    return dict(value)


def normalize(config: dict) -> dict:
    """Return a canonical copy of ``config`` with defaults filled in (no component is built)."""
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
            raise ConfigError(f"run config has no '{key}' table")
    out: dict[str, Any] = {
        "seed": check_int("seed", cfg.get("seed", 0), 0),
        "n": check_int("n", cfg.get("n", 1), 1),
        "T": check_int("T", cfg.get("T"), 1) if "T" in cfg else None,
        "problem": _table(cfg, "problem", None),
        "algorithm": _table(cfg, "algorithm", None),
        "compressor": _table(cfg, "compressor", "identity"),
        "aggregator": _table(cfg, "aggregator", "mean"),
        "attack": _table(cfg, "attack", "none"),
        "record": dict(cfg.get("record", {})),
    }
    if out["T"] is None:
        raise ConfigError("T (number of iterations) is required; allowed range [1, inf]")
    out["f"] = check_int("f", cfg.get("f", 0), 0, out["n"] - 1)
    for key in ("n", "f"):
        if key in out["problem"]:
            raise ConfigError(f"set '{key}' at the top level of the run config, not in [problem]")
    out["attack"].setdefault("target", "state")
    check_choice("attack.target", out["attack"]["target"], ATTACK_TARGETS)
    rec = out["record"]
    allowed = {"every", "log", "grad_every", "diverge_at"}
    bad = sorted(set(rec) - allowed)
    if bad:
        raise ConfigError(f"unknown record option(s) {', '.join(bad)}; allowed: {', '.join(sorted(allowed))}")
    if "every" in rec and "log" in rec:
        raise ConfigError("record: give either 'every' or 'log', not both")
    if "every" not in rec:
        rec.setdefault("log", 200)
    rec.setdefault("grad_every", 1)
    rec.setdefault("diverge_at", 1e30)
    for k in ("every", "log", "grad_every"):
        if k in rec:
            rec[k] = check_int(f"record.{k}", rec[k], 1)
    rec["diverge_at"] = check_real("record.diverge_at", rec["diverge_at"], 0.0, None, lo_open=True)
    for k in ("name", "notes"):
        if k in cfg:
            out[k] = cfg[k]
    return out


def run_id(cfg: dict) -> str:
    """Deterministic id of a normalized config: the first 16 hex digits of sha256(canonical JSON).

    The JSON holds the config (without its free-text "name" and "notes") and :data:`NUMERICS`.
    """
    body = {k: v for k, v in cfg.items() if k not in ("name", "notes")}
    text = json.dumps({"config": body, "numerics": NUMERICS}, sort_keys=True, separators=(",", ":"),
                      default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class RunSpec:
    """A validated config with every component built (fresh, stateless instances)."""

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


def build(config: dict, problem_rng=None) -> RunSpec:
    """Normalize, validate and build every component; raises ConfigError before any work starts."""
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
    if problem_rng is None:
        problem_rng = rngmod.stream(cfg["seed"], "problem")
    problem = PROBLEMS.build({**cfg["problem"], "n": n, "f": f}, rng=problem_rng)
    compressor.check(problem.d)
    if attack.name == "label_flip" and not problem.supports_label_flip:
        raise ConfigError(f"attack 'label_flip' needs a problem with labels; {problem.name!r} has none")
    if f > 0:
        _dry_run_attack(attack, n, f)
    return RunSpec(cfg, problem, algorithm, compressor, aggregator, attack, cfg["attack"]["target"])
