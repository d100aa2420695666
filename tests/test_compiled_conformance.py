"""The compiled loop against the Python reference loop, on a matrix generated from the registries.

Every registered component appears in at least one combination; every algorithm meets every
aggregator family (mean, coordinate-wise, selection, geometric median, clipping, pre-aggregation,
each family's members taken in turn); every attack meets both targets. A component registered later
is picked up without editing this file (an aggregator outside the families below fails
``test_every_aggregator_has_a_family``). The curves, status and summary must be equal bit for bit.
"""

from __future__ import annotations

import gc
import itertools
import os
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest
from numba.core.runtime import _nrt_python as _nrt
from numba.core.runtime import rtsys

from byzref.aggregators.base import AGGREGATORS, PRE_AGGREGATORS
from byzref.algorithms.base import ALGORITHMS
from byzref.attacks.base import ATTACKS
from byzref.compressors.base import COMPRESSORS, CONTRACTIVE, UNBIASED
from byzref.config import build
from byzref.engine import run
from problems.registry import PROBLEMS

#: aggregator families; every registered rule must belong to one (a pre-aggregator is followed by
#: the final rules in turn)
FAMILIES = {
    "mean": ["mean"],
    "coordinate-wise": ["cwtm", "cwmed", "meamed"],
    "selection": ["krum", "multikrum"],
    "geometric median": ["gm"],
    "clipping": ["cclip"],
    "pre-aggregation": [f"{p}+{a}" for p, a in zip(itertools.cycle(PRE_AGGREGATORS.names()),
                                                     ("cwtm", "cwmed", "gm", "krum", "meamed"),
                                                     strict=False)],
}
TARGETS = ("state", "message")
N, F = 9, 2


def _cycle(names):
    return itertools.cycle(sorted(names))


def _compressors(kind):
    """The registered compressors of a class, in turn (identity for methods without compression)."""
    if kind is None:
        return _cycle(["identity"])
    return _cycle([c for c in COMPRESSORS.names() if kind in COMPRESSORS.get(c).classes])


def _spec(name, registry):
    return {"name": name, **registry.get(name).test_config}


def _algorithm(name, batch):
    cls = ALGORITHMS.get(name)
    cfg = _spec(name, ALGORITHMS)
    if cls.stochastic and "batch" in cls.param_ranges and batch > 1:
        cfg["batch"] = batch
    return cfg


def _problem(name):
    return _spec(name, PROBLEMS)


def _config(alg, comp, agg, attack, target, problem, *, seed, grad_every=1, f=F, T=30):
    return {"seed": seed, "n": N, "f": f, "T": T,
            "record": {"log": 8, "grad_every": grad_every},
            "problem": problem, "algorithm": alg, "compressor": comp, "aggregator": agg,
            "attack": {**attack, "target": target}}


def matrix():
    """(id, config) pairs: every algorithm × every family, every attack × both targets, extras."""
    out = []
    problems = _cycle(PROBLEMS.names())
    comps = {k: _compressors(k) for k in (CONTRACTIVE, UNBIASED, None)}
    members = {fam: itertools.cycle(rules) for fam, rules in FAMILIES.items()}
    # label flip needs labels (its own section below); nonfinite ends a run at once (also below)
    attacks = itertools.cycle([a for a in ATTACKS.names() if a not in ("label_flip", "nonfinite")])
    seed = 0
    # algorithms that share their kernels (byz_dm21 and byz_vr_dm21, a method and its preset) get the
    # same other components per family, so they share one compiled loop and the matrix compiles less
    chosen = {}
    for name in ALGORITHMS.names():
        cls = ALGORITHMS.get(name)
        fams = ["mean"] if cls.preset_of else list(FAMILIES)
        for fam in fams:
            seed += 1
            key = (cls.kernel, fam)
            if key not in chosen:
                chosen[key] = (next(members[fam]), _spec(next(comps[cls.compressor_class]), COMPRESSORS),
                               _spec(next(attacks), ATTACKS), _problem(next(problems)))
            agg, comp, attack, problem = chosen[key]
            f = 0 if cls.preset_of else F
            attack = {"name": "none"} if f == 0 else attack
            out.append((f"{name}-{agg}-{comp['name']}-{attack['name']}",
                        _config(_algorithm(name, 1 + seed % 2), comp, agg, attack, TARGETS[seed % 2],
                                problem, seed=seed, grad_every=1 + seed % 3, f=f)))
    # every attack on both targets, on a problem with labels (label flip), algorithms in turn
    algs = _cycle([a for a in ALGORITHMS.names() if not ALGORITHMS.get(a).preset_of])
    aggs = itertools.cycle(["cwtm", "nnm+cwmed", "mean", "bucketing+gm", "cclip", "krum"])
    for name in ATTACKS.names():
        alg = next(algs)
        cls = ALGORITHMS.get(alg)
        comp = _spec(next(comps[cls.compressor_class]), COMPRESSORS)
        agg = next(aggs)
        for target in TARGETS:
            seed += 1
            out.append((f"{name}-{target}-{alg}-{agg}",
                        _config(_algorithm(alg, 1), comp, agg, _spec(name, ATTACKS), target,
                                _problem("logreg_nonconvex"), seed=seed)))
    # an adaptive attack probing a random pre-aggregator (the probe sees the server's next permutation)
    out.append(("adaptive-bucketing", _config(_algorithm("byz_dm21", 1), _spec("top_k", COMPRESSORS),
                                              "bucketing(s=2)+cwtm", _spec("adaptive_alie", ATTACKS), "state",
                                              _problem("nonconvex_synthetic"), seed=99)))
    # a run that diverges (infinite Byzantine rows through the mean)
    out.append(("diverges", _config(_algorithm("byz_dm21", 1), _spec("top_k", COMPRESSORS), "mean",
                                    {"name": "nonfinite", "kind": "inf"}, "state",
                                    _problem("quadratic"), seed=98)))
    return out


MATRIX = matrix()


def test_every_aggregator_has_a_family():
    """A newly registered aggregator must be placed in a family above (so it meets every algorithm)."""
    placed = {r.split("+")[-1] for rules in FAMILIES.values() for r in rules}
    assert placed >= set(AGGREGATORS.names())
    assert {r.split("+")[0] for r in FAMILIES["pre-aggregation"]} == set(PRE_AGGREGATORS.names())


def test_matrix_covers_every_component():
    """Every registered component appears in the matrix; every attack meets both targets."""
    seen = {k: set() for k in ("algorithm", "compressor", "aggregator", "attack", "problem")}
    pairs = set()
    for _, cfg in MATRIX:
        seen["algorithm"].add(cfg["algorithm"]["name"])
        seen["compressor"].add(cfg["compressor"]["name"])
        seen["aggregator"].update(s.split("(")[0] for s in cfg["aggregator"].split("+"))
        seen["problem"].add(cfg["problem"]["name"])
        if cfg["f"] > 0:
            seen["attack"].add(cfg["attack"]["name"])
            pairs.add((cfg["attack"]["name"], cfg["attack"]["target"]))
    assert seen["algorithm"] == set(ALGORITHMS.names())
    assert seen["compressor"] == set(COMPRESSORS.names())
    assert seen["aggregator"] == set(AGGREGATORS.names()) | set(PRE_AGGREGATORS.names())
    assert seen["problem"] == set(PROBLEMS.names())
    assert pairs == {(a, t) for a in ATTACKS.names() for t in TARGETS}


def _compile(cfg):
    """Compile (and cache on disk) the loop of one configuration: a one-iteration run."""
    run({**cfg, "T": 1, "record": {"every": 1}}, fast=True)  # the loop does not depend on T or record
    return True


@pytest.fixture(scope="module")
def compiled_loops():
    """Compile every combination of the matrix first, on all cores (one new loop takes seconds to compile;
    the tests below then load them from Numba's disk cache)."""
    cfgs = [c for _, c in MATRIX]
    _compile(cfgs[0])  # the components' own kernels, once, before processes compete for the cache
    workers = max(1, min(4, os.cpu_count() or 1))
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            list(pool.map(_compile, cfgs[1:]))


def _same(a, b):
    return a == b or (isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b))


@pytest.fixture(scope="module")
def nrt_stats():
    """Numba's allocation statistics on for this module's tests, as they were afterwards."""
    was = _nrt.memsys_stats_enabled()
    _nrt.memsys_enable_stats()
    yield
    if not was:
        _nrt.memsys_disable_stats()


def _held():
    """Numba's allocations not yet freed (counted only while its statistics are on)."""
    gc.collect()
    s = rtsys.get_allocation_stats()
    return s.alloc - s.free, s.mi_alloc - s.mi_free


@pytest.mark.parametrize("cfg", [c for _, c in MATRIX], ids=[i for i, _ in MATRIX])
def test_compiled_equals_reference(cfg, compiled_loops, nrt_stats):
    """Same config, same seed: the compiled loop's curves, status and summary equal the reference's,
    and the compiled run frees every allocation it made (the loop runs without reference counting)."""
    spec = build(cfg)
    ref = run(build(cfg), fast=False)
    held = _held()
    fast = run(spec, fast=True)
    assert _held() == held
    assert fast.status == ref.status
    assert fast.diverged_at == ref.diverged_at
    assert fast.curves.keys() == ref.curves.keys()
    for key in ref.curves:
        np.testing.assert_array_equal(fast.curves[key], ref.curves[key], err_msg=key)
    for key, value in ref.summary.items():
        assert _same(fast.summary[key], value), key
