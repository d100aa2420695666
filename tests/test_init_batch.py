"""algorithm.init_batch: round 0 averages b₀·b samples per worker (Byz-DM21, Byz-VR-DM21, Byz-EF21-SGDM).

(a) the default b₀ = 1 stays out of canonical configs and run ids, and runs equal a hand-written loop
    whose round 0 draws one batch; (b) with b₀ > 1 round 0's rows and the whole run equal hand
    computations (the mean of b₀·b per-sample gradients of one draw from the "samples" stream, then
    batch-b draws); (c) the engine's Monte-Carlo means contain theory.exact's values for b₀ = 4 and
    exclude those for b₀ = 1; (d) bad values and the compiled engine are refused in one line.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pytest
from reference.monte_carlo import engine_moments, exact_values

from byzref.algorithms.base import ALGORITHMS
from byzref.config import build, normalize, run_id
from byzref.engine import _Simulation, run
from byzref.errors import ConfigError
from byzref.rng import stream
from theory.exact import ExactModel

METHODS = ("byz_dm21", "byz_vr_dm21", "byz_ef21_sgdm")


def _ls_cfg(name, T=6, **alg):
    """Least squares on 4 workers (8 rows each), mean aggregation, identity compressor, f = 0."""
    return {"seed": 3, "n": 4, "f": 0, "T": T, "record": {"every": 1},
            "problem": {"name": "least_squares", "samples_per_worker": 8, "d": 5, "lam": 0.05},
            "algorithm": {"name": name, "gamma": 0.2, "eta": 0.3, **alg},
            "compressor": "identity", "aggregator": "mean", "attack": "none"}


def _sample_grads(prob, x, idx):
    """∇f_i(x; ξ) = (1/B) Σ_j a_ij (a_ij·x − y_ij) + λx over worker i's B sampled rows, one by one."""
    A, y, off, lam = prob._A, prob._y, prob._off, prob._lam
    out = np.zeros((prob.n, prob.d))
    for i in range(prob.n):
        for j in idx[i]:
            a = A[off[i] + j]
            out[i] += a * (a @ x - y[off[i] + j])
        out[i] /= len(idx[i])
    return out + lam * x


def _full_grad(prob, x):
    A, y, off, lam = prob._A, prob._y, prob._off, prob._lam
    g = [A[off[i]:off[i + 1]].T @ (A[off[i]:off[i + 1]] @ x - y[off[i]:off[i + 1]]) / (off[i + 1] - off[i])
         for i in range(prob.n)]
    return np.mean(g, axis=0) + lam * x


def _hand_run(cfg):
    """‖∇f(xᵗ)‖², t = 0..T, of the method in ``cfg`` written out (mean, identity C, f = 0).

    Round 0: one draw of (n, b·b₀) row indices from the "samples" stream, s = their mean gradient;
    every later iteration: one draw of (n, b) indices.
    """
    prob = build(cfg).problem
    a = cfg["algorithm"]
    name, gamma, eta = a["name"], a["gamma"], a["eta"]
    eta2, b, b0 = a.get("eta2", eta), a.get("batch", 1), a.get("init_batch", 1)
    rng = stream(cfg["seed"], "samples")
    counts = prob._counts[:, None]
    x = prob.x0().copy()
    s = _sample_grads(prob, x, rng.integers(0, counts, size=(prob.n, b * b0)))
    v, u, g = s.copy(), s.copy(), s.copy()
    out = []
    for _ in range(cfg["T"]):
        gf = _full_grad(prob, x)
        out.append(gf @ gf)
        x_new = x - gamma * g.mean(axis=0)
        idx = rng.integers(0, counts, size=(prob.n, b))
        if name == "byz_vr_dm21":
            v = _sample_grads(prob, x_new, idx) + (1 - eta) * (v - _sample_grads(prob, x, idx))
        else:
            v = (1 - eta) * v + eta * _sample_grads(prob, x_new, idx)
        if name == "byz_ef21_sgdm":
            g = v.copy()
        else:
            u = (1 - eta2) * u + eta2 * v
            g = u.copy()
        x = x_new
    gf = _full_grad(prob, x)
    out.append(gf @ gf)
    return np.array(out)


# --- (a) the default ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", METHODS)
def test_default_stays_out_of_canonical_config_and_id(name):
    plain = _ls_cfg(name)
    one = _ls_cfg(name, init_batch=1)
    assert normalize(one) == normalize(plain)
    assert "init_batch" not in normalize(plain)["algorithm"]
    assert run_id(normalize(one)) == run_id(normalize(plain))
    four = normalize(_ls_cfg(name, init_batch=4))
    assert four["algorithm"]["init_batch"] == 4 and run_id(four) != run_id(normalize(plain))
    assert normalize(four) == four
    assert ALGORITHMS.build({**plain["algorithm"], "init_batch": 4.0}).init_batch == 4


# --- (b) hand computations ---------------------------------------------------------------------------
@pytest.mark.parametrize("b0", [1, 3])
@pytest.mark.parametrize("name", METHODS)
def test_run_equals_hand_loop(name, b0):
    """The whole run (round 0 with b·b₀ samples, then batch b) equals the loop written out; b₀ = 1 is
    today's behaviour."""
    cfg = _ls_cfg(name, batch=2, init_batch=b0, **({"eta2": 0.6} if name != "byz_ef21_sgdm" else {}))
    got = run(cfg, fast=False).curves["grad_sq"]
    np.testing.assert_allclose(got, _hand_run(cfg), rtol=1e-12, atol=0)


@pytest.mark.parametrize(("name", "extra"), [("byz_dm21", {}), ("byz_dm21", {"variant": "released"}),
                                             ("byz_vr_dm21", {}), ("byz_vr_dm21", {"init": "released"}),
                                             ("byz_ef21_sgdm", {})])
def test_round0_rows_are_the_mean_of_b0_b_samples(name, extra):
    """G⁰ = s (η² s for Byz-VR-DM21's released init with the identity compressor), s the mean of the
    b₀·b per-sample gradients of one draw; the samples stream has then given exactly that one draw."""
    b, b0 = 2, 5
    cfg = _ls_cfg(name, batch=b, init_batch=b0, **extra)
    sim = _Simulation(build(cfg), False)
    prob = sim.prob
    rng = stream(cfg["seed"], "samples")
    s = _sample_grads(prob, prob.x0(), rng.integers(0, prob._counts[:, None], size=(prob.n, b * b0)))
    eta = cfg["algorithm"]["eta"]
    want = eta * (eta * s) if extra.get("init") == "released" else s
    np.testing.assert_allclose(sim.G, want, rtol=1e-12, atol=1e-15)
    np.testing.assert_equal(sim.oracle.rng.bit_generator.state, rng.bit_generator.state)


# --- (c) Monte Carlo against theory.exact --------------------------------------------------------------
_QUAD = {"n": 4, "f": 0, "problem": {"name": "quadratic", "d": 4, "zero_eigs": 1, "mu": 0.2, "sigma2": 1.0,
                                     "zeta2": 0.5},
         "compressor": "identity", "aggregator": "mean", "attack": "none"}
_MC_ALGS = [{"name": "byz_vr_dm21", "gamma": 0.5, "eta": 0.1, "eta2": 0.5},
            {"name": "byz_dm21", "gamma": 0.5, "eta": 0.2},
            {"name": "byz_ef21_sgdm", "gamma": 0.5, "eta": 0.2}]


def test_monte_carlo_contains_exact_with_init_batch():
    """3 methods × 4 quantities (E avg_{t<T}‖∇f‖², E‖∇f(x^T)‖², E f(x^T) − f*, E‖x^T − x*‖²), 300 seeds,
    T = 20, b₀ = 4: every exact value lies in mean ± z·s.e. (Bonferroni, simultaneous 99%); the oracle
    reads b₀ from the config exactly as its what-if knob; and for each method at least one quantity
    puts the b₀ = 1 value outside the interval (the test sees round 0's batch)."""
    T, seeds, b0 = 20, 300, 4
    z = NormalDist().inv_cdf(1.0 - 0.01 / (2 * 4 * len(_MC_ALGS)))
    bad = []
    for alg in _MC_ALGS:
        cfg = {**_QUAD, "seed": 0, "T": T, "record": {"every": T}, "algorithm": {**alg, "init_batch": b0}}

        def spec_of(s, cfg=cfg):
            return build({**cfg, "seed": s}, problem_rng=stream(0, "problem"))

        model = ExactModel.from_spec(spec_of(0))
        ex = model.curves(T)
        plain = ExactModel.from_spec(build({**cfg, "algorithm": alg}, problem_rng=stream(0, "problem")))
        knob = plain.curves(T, params={"init_batch": b0})
        np.testing.assert_array_equal(ex.grad_sq, knob.grad_sq)
        one = model.curves(T, params={"init_batch": 1})
        mean, se = engine_moments(spec_of, seeds)
        exact, exact1 = exact_values(ex), exact_values(one)
        zs, zs1 = (mean - exact) / se, (mean - exact1) / se
        if (np.abs(zs) > z).any():
            bad.append(f"{alg['name']}: z-scores {np.round(zs, 2).tolist()} (limit {z:.2f})")
        if not (np.abs(zs1) > z).any():
            bad.append(f"{alg['name']}: the b₀ = 1 values are inside the intervals too ({np.round(zs1, 2)})")
    assert not bad, "; ".join(bad)


# --- (d) bad values and the engines ---------------------------------------------------------------------
@pytest.mark.parametrize("value", [0, -2, 1.5, True, "2", None])
@pytest.mark.parametrize("name", METHODS)
def test_bad_values_are_one_line(name, value):
    with pytest.raises(ConfigError) as exc:
        normalize(_ls_cfg(name, init_batch=value))
    msg = str(exc.value)
    assert "\n" not in msg and "init_batch" in msg and "[1, inf]" in msg and repr(value) in msg


def test_methods_without_a_stochastic_round0_have_no_init_batch():
    cfg = {**_ls_cfg("byz_dm21"), "algorithm": {"name": "byz_ef21_sgd", "gamma": 0.1, "init_batch": 2}}
    with pytest.raises(ConfigError, match=r"unknown parameter.*init_batch"):
        normalize(cfg)


def test_compiled_engine_refuses_and_auto_runs_python(monkeypatch):
    import byzref.compiled as compiled

    cfg = _ls_cfg("byz_vr_dm21", init_batch=2)
    monkeypatch.setattr(compiled, "COMPILE_SECONDS", 0.0)  # "auto" would compile any other run
    monkeypatch.setenv("BYZREF_ENGINE", "auto")
    assert _Simulation(build(cfg), None).loop is None
    np.testing.assert_array_equal(run(cfg).curves["grad_sq"], run(cfg, fast=False).curves["grad_sq"])
    want = (r"^this configuration cannot run compiled: algorithm 'byz_vr_dm21' with init_batch = 2 "
            r".*Python loop")
    with pytest.raises(ConfigError, match=want) as exc:
        run(cfg, fast=True)
    assert "\n" not in str(exc.value)
    monkeypatch.setenv("BYZREF_ENGINE", "compiled")
    with pytest.raises(ConfigError, match=want):
        run(cfg)
    with pytest.raises(NotImplementedError, match="init_batch = 2"):
        build(cfg).algorithm.kernel(build(cfg).compressor, 4, 5)


def test_info_lists_the_default(capsys):
    """``byzref info`` shows init_batch = 1 for the methods that take it (and only for them)."""
    import json

    from byzref.cli import main

    assert main(["info", "--json"]) == 0
    algs = {e["name"]: e["params"] for e in json.loads(capsys.readouterr().out)["algorithms"]}
    assert {k for k, p in algs.items() if "init_batch" in p} == {*METHODS, "dm21", "ef21_sgdm"}
    assert all(algs[k]["init_batch"] == 1 for k in METHODS)
