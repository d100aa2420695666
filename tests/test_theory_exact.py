"""theory.exact: hand-derived closed forms, hand-iterated deterministic recursions, the engine's Monte-Carlo
confidence intervals and the engine's divergence at the stability boundary.

Monte-Carlo checks: each configuration is run over many seeds with the problem instance fixed; for each of
E‖∇f‖² averaged over t < T, E‖∇f(x^T)‖², E f(x^T) − f* and E‖x^T − x*‖² the exact value must lie in the
interval mean ± z·s.e. With K checks in a test, z is the two-sided 1 − 0.01/K normal quantile
(Bonferroni), so each test's chance of a false failure is at most 1% (the seeds are fixed, so a given
run of the suite is deterministic).
"""

from __future__ import annotations

import dataclasses
import math
from statistics import NormalDist

import numpy as np
import pytest
from reference.monte_carlo import engine_moments, exact_values

from byzref.config import build
from byzref.engine import run
from byzref.errors import ConfigError
from byzref.rng import stream
from problems.quadratic import Quadratic
from theory.exact import ExactModel


def _quad_cfg(**kw):
    n = kw.get("n", 1)
    base = {"seed": 0, "n": 1, "f": 0, "T": 10,
            "problem": {"name": "quadratic", "d": 5, "zero_eigs": 0, "mu": 0.2, "L": 1.0, "sigma2": 1.0},
            "algorithm": {"name": "byz_ef21_sgd", "gamma": 0.3}}
    base.update(kw)
    if n > 1:
        base["problem"]["zeta2"] = 0.5  # heterogeneous workers: the mean's shift cancels, as it must
    return base


def _diag_problem(n=4, f=0, sigma2=1.0, a=(1.0, 0.5, 0.2, 0.0), seed=5):
    rng = np.random.default_rng(seed)
    d = len(a)
    return Quadratic.from_arrays(np.diag(a), 0.7 * rng.standard_normal((n, d)), f=f, sigma2=sigma2,
                                 x0=np.linspace(-1.0, 2.0, d))


# --- (a) closed forms and hand-iterated recursions ---------------------------------------------------
@pytest.mark.parametrize("n,batch", [(1, 1), (3, 2)])
def test_sgd_stationary_closed_form(n, batch):
    """SGD x' = x − γ(A(x − x*) + ξ̄), ξ̄ ~ N(0, σ²/(b d n) I): per eigenvalue a, stationary
    E e² = γ² s²/(1 − (1 − γa)²) = γ s²/(a(2 − γa)) with s² = σ²/(b d n)."""
    gamma, sigma2, d = 0.7, 2.0, 5
    cfg = _quad_cfg(n=n, algorithm={"name": "byz_ef21_sgd", "gamma": gamma, "batch": batch})
    cfg["problem"]["sigma2"] = sigma2
    model = ExactModel.from_config(cfg)
    a = np.geomspace(0.2, 1.0, d)  # the problem's spectrum (mu = 0.2, L = 1, no zero eigenvalue)
    s2 = sigma2 / (batch * d * n)
    var = gamma * s2 / (a * (2.0 - gamma * a))
    st = model.stationary()
    assert st["grad_sq"] == pytest.approx(float((a * a * var).sum()), rel=1e-9)
    assert st["f_gap"] == pytest.approx(float((0.5 * a * var).sum()), rel=1e-9)
    assert st["dist_sq"] == pytest.approx(float(var.sum()), rel=1e-9)
    # the map moves the means (eigenvalues 1 − γa) and the second moments ((1 − γa)²)
    assert model.spectral_radius() == pytest.approx(float(np.abs(1 - gamma * a).max()), rel=1e-9)


def test_gradient_descent_limit_is_two_over_L():
    """Byz-EF21 with full gradients and the identity compressor is gradient descent: stable iff γ < 2/L."""
    cfg = _quad_cfg(algorithm={"name": "byz_ef21", "gamma": 0.1})
    cfg["problem"]["sigma2"] = 0.0
    assert ExactModel.from_config(cfg).stability_limit() == pytest.approx(2.0, rel=1e-5)


def _lyapunov(F, Q):
    """Σ = F Σ Fᵀ + Q by vectorisation."""
    k = F.shape[0]
    return np.linalg.solve(np.eye(k * k) - np.kron(F, F), Q.ravel()).reshape(k, k)


def test_momentum_stationary_lyapunov():
    """Robust momentum SGD on a scalar quadratic: x' = x − γm, m' = βm + (1 − β)(a x' + ξ); with z = (x, m),
    z' = F z + G ξ, F = [[1, −γ], [(1 − β)a, β − (1 − β)aγ]], G = (0, 1 − β); stationary Σ = FΣFᵀ + GGᵀ s²."""
    gamma, beta, a, sigma2 = 0.6, 0.7, 0.8, 1.5
    prob = Quadratic.from_arrays(np.array([[a]]), np.zeros((1, 1)), sigma2=sigma2, x0=np.array([3.0]))
    from byzref.algorithms import ALGORITHMS

    model = ExactModel(prob, ALGORITHMS.build({"name": "robust_momentum_sgd", "gamma": gamma, "beta": beta}))
    F = np.array([[1.0, -gamma], [(1 - beta) * a, beta - (1 - beta) * a * gamma]])
    G = np.array([0.0, 1 - beta])
    Sig = _lyapunov(F, np.outer(G, G) * sigma2)
    assert model.stationary()["grad_sq"] == pytest.approx(a * a * Sig[0, 0], rel=1e-9)
    assert model.spectral_radius() == pytest.approx(float(np.abs(np.linalg.eigvals(F)).max()), rel=1e-9)


def test_ef21_rand_k_biased_stationary_multiplicative_noise():
    """Byz-EF21-SGD with rand_k_biased on a diagonal A, one worker: per coordinate with keep-probability
    p = k/d, z = (x, g), z' = (F0 + D F1) z + D G ξ, D ~ Bernoulli(p):
    x' = x − γg, g' = g + D(a x' + ξ − g) ⇒ F0 = [[1, −γ], [0, 1]], F1 = [[0, 0], [a, −aγ − 1]], G = (0, 1);
    E z'z'ᵀ = F0ΣF0ᵀ + p(F0ΣF1ᵀ + F1ΣF0ᵀ + F1ΣF1ᵀ) + p s² GGᵀ."""
    # (γ = 0.4 would sit exactly on the mean-square boundary of the mode a = 1)
    a_vals, gamma, sigma2, k = np.array([1.0, 0.6, 0.3]), 0.25, 3.0, 1
    d = a_vals.size
    prob = Quadratic.from_arrays(np.diag(a_vals), np.zeros((1, d)), sigma2=sigma2, x0=np.ones(d))
    from byzref.algorithms import ALGORITHMS
    from byzref.compressors import COMPRESSORS

    model = ExactModel(prob, ALGORITHMS.build({"name": "byz_ef21_sgd", "gamma": gamma}),
                       COMPRESSORS.build({"name": "rand_k_biased", "k": k}))
    p, s2 = k / d, sigma2 / d
    total = 0.0
    for a in a_vals:
        F0 = np.array([[1.0, -gamma], [0.0, 1.0]])
        F1 = np.array([[0.0, 0.0], [a, -a * gamma - 1.0]])
        # vec form of Σ ↦ F0ΣF0ᵀ + p(F0ΣF1ᵀ + F1ΣF0ᵀ + F1ΣF1ᵀ)
        Mv = np.kron(F0, F0) + p * (np.kron(F0, F1) + np.kron(F1, F0) + np.kron(F1, F1))
        Q = p * s2 * np.array([[0.0, 0.0], [0.0, 1.0]])
        Sig = np.linalg.solve(np.eye(4) - Mv, Q.ravel()).reshape(2, 2)
        total += a * a * Sig[0, 0]
    assert model.stationary()["grad_sq"] == pytest.approx(total, rel=1e-9)


@pytest.mark.parametrize("target", ["state", "message"])
def test_deterministic_dm21_equals_hand_iteration(target):
    """σ = 0, identity compressor, IPM on n = 5, f = 1: the recursion iterated by hand in the original
    coordinates (every worker, the attack's rows, the mean) equals the exact E‖∇f(xᵗ)‖² at every t."""
    gamma, eta, eta2, eps, T = 0.4, 0.3, 0.5, 0.1, 40
    cfg = {"seed": 1, "n": 5, "f": 1, "T": T,
           "problem": {"name": "quadratic", "d": 6, "zero_eigs": 1, "mu": 0.1, "sigma2": 0.0, "zeta2": 1.0},
           "algorithm": {"name": "byz_dm21", "gamma": gamma, "eta": eta, "eta2": eta2},
           "attack": {"name": "ipm", "eps": eps, "target": target}}
    spec = build(cfg)
    prob = spec.problem
    curves = ExactModel.from_spec(spec).curves(T)
    G = np.arange(4)
    x = prob.x0()
    grads = prob.worker_grads(x)[G]
    v, u, g = grads.copy(), grads.copy(), grads.copy()
    byz = -eps * g.mean(axis=0)
    for t in range(T + 1):
        gf = prob.grad(x)
        assert curves.grad_sq[t] == pytest.approx(float(gf @ gf), rel=1e-9, abs=1e-14)
        assert curves.f_gap[t] == pytest.approx(prob.gap(x), rel=1e-9, abs=1e-14)
        g_hat = (g.sum(axis=0) + byz) / 5.0
        x = x - gamma * g_hat
        v = (1 - eta) * v + eta * prob.worker_grads(x)[G]
        u = (1 - eta2) * u + eta2 * v
        c = u - g
        g = g + c
        byz = -eps * g.mean(axis=0) if target == "state" else byz - eps * c.mean(axis=0)


def test_constant_paths_agree():
    """Stepping, binary powers, a constant schedule and the stationary solve give the same numbers."""
    cfg = {"seed": 2, "n": 6, "f": 1, "T": 10,
           "problem": {"name": "quadratic", "d": 10, "mu": 0.1, "sigma2": 1.0, "zeta2": 0.5},
           "algorithm": {"name": "byz_vr_dm21", "gamma": 0.3, "eta": 0.2, "eta2": 0.5},
           "attack": {"name": "sign_flip"}}
    model = ExactModel.from_config(cfg)
    c = model.curves(3000)
    sched = model.curves(300, schedule=lambda t: {"gamma": 0.3})
    np.testing.assert_allclose(sched.grad_sq, c.grad_sq[:301], rtol=1e-12)
    assert model.avg_grad_sq(3000) == pytest.approx(c.avg_grad_sq, rel=1e-10)
    at = model.at([0, 7, 2999])
    np.testing.assert_allclose(at["grad_sq"], c.grad_sq[[0, 7, 2999]], rtol=1e-10)
    np.testing.assert_allclose(at["dist_sq"], c.dist_sq[[0, 7, 2999]], rtol=1e-10)
    st = model.stationary()
    assert st["grad_sq"] == pytest.approx(c.grad_sq[-1], rel=1e-8)
    assert st["dist_sq"] == math.inf  # one zero eigenvalue (d // 10): that mode is a random walk
    assert c.dist_sq[-1] > c.dist_sq[1500] > c.dist_sq[300]
    assert model.avg_grad_sq(10**9) == pytest.approx(st["grad_sq"], rel=1e-3)


def test_schedule_changes_parameters():
    """A per-t schedule switching γ halfway equals two constant runs glued by hand (γ only moves x)."""
    cfg = _quad_cfg(algorithm={"name": "byz_ef21_sgd", "gamma": 0.3})
    cfg["problem"]["sigma2"] = 0.0
    model = ExactModel.from_config(cfg)
    c = model.curves(40, schedule=lambda t: {"gamma": 0.3 if t < 20 else 0.9})
    prob = build(cfg).problem
    x = prob.x0()
    for t in range(41):
        gf = prob.grad(x)
        assert c.grad_sq[t] == pytest.approx(float(gf @ gf), rel=1e-9)
        x = x - (0.3 if t < 20 else 0.9) * gf


# --- outside the class: one clear error --------------------------------------------------------------
@pytest.mark.parametrize("change,match", [
    ({"compressor": {"name": "top_k", "k": 2}}, "top_k is not a random linear map"),
    ({"aggregator": "cwtm"}, "aggregator 'cwtm' is not linear"),
    ({"attack": {"name": "alie"}}, "attack 'alie' is not linear"),
    ({"problem": {"name": "nonconvex_synthetic", "d": 4}}, "exact moments need problem 'quadratic'"),
    ({"compressor": {"name": "rand_k", "k": 2}, "algorithm": {"name": "br_csgd", "gamma": 0.1},
      "problem": {"name": "quadratic", "d": 11}}, "d = 11 is above 10"),
])
def test_outside_the_linear_class(change, match):
    cfg = {"seed": 0, "n": 5, "f": 1, "T": 10, "problem": {"name": "quadratic", "d": 5},
           "algorithm": {"name": "byz_dm21", "gamma": 0.1, "eta": 0.2}, "attack": {"name": "ipm"}}
    cfg.update(change)
    with pytest.raises(ConfigError, match=match):
        ExactModel.from_config(cfg)


def test_released_protocol_is_outside_the_class():
    cfg = {"seed": 0, "n": 5, "f": 0, "T": 10, "protocol": "released",
           "problem": {"name": "quadratic", "d": 5},
           "algorithm": {"name": "byz_dm21", "gamma": 0.1, "eta": 0.2, "variant": "released"}}
    with pytest.raises(ConfigError, match="protocol 'released' is not supported by exact moments"):
        ExactModel.from_config(cfg)


# --- (b) the engine's Monte-Carlo confidence intervals ------------------------------------------------
def _check_cases(cases, T, seeds):
    z = NormalDist().inv_cdf(1.0 - 0.01 / (2 * 4 * len(cases)))
    bad = []
    for name, cfg, prob in cases:
        cfg = {**cfg, "T": T, "record": {"every": T}}
        if prob is None:
            def spec_of(s, cfg=cfg):
                return build({**cfg, "seed": s}, problem_rng=stream(0, "problem"))
        else:
            def spec_of(s, cfg=cfg, prob=prob):
                return dataclasses.replace(build({**cfg, "seed": s}), problem=prob)
        exact = exact_values(ExactModel.from_spec(spec_of(0)).curves(T))
        mean, se = engine_moments(spec_of, seeds)
        zs = (mean - exact) / se
        if (np.abs(zs) > z).any():
            bad.append(f"{name}: z-scores {np.round(zs, 2).tolist()} (limit {z:.2f})")
    assert not bad, "; ".join(bad)


_ROT = {"n": 5, "problem": {"name": "quadratic", "d": 4, "zero_eigs": 1, "mu": 0.2, "sigma2": 1.0,
                            "zeta2": 0.5}}
_DIAG = {"n": 4, "problem": {"name": "quadratic", "d": 4}}


def _fast_cases():
    return [
        ("byz_dm21 ipm state", {**_ROT, "f": 1, "algorithm": {"name": "byz_dm21", "gamma": 0.5, "eta": 0.3},
                                "attack": {"name": "ipm"}}, None),
        ("byz_vr_dm21 released init, sign_flip message",
         {**_ROT, "f": 1, "algorithm": {"name": "byz_vr_dm21", "gamma": 0.5, "eta": 0.3, "eta2": 0.6,
                                        "init": "released"},
          "attack": {"name": "sign_flip", "target": "message"}},
         None),
        ("robust_momentum_sgd, attack none (f = 1)",
         {**_ROT, "f": 1, "algorithm": {"name": "robust_momentum_sgd", "gamma": 0.4, "beta": 0.5}}, None),
        ("byz_ef21_sgdm rand_k_biased ipm message",
         {**_DIAG, "f": 1, "algorithm": {"name": "byz_ef21_sgdm", "gamma": 0.5, "eta": 0.4},
          "compressor": {"name": "rand_k_biased", "k": 1}, "attack": {"name": "ipm", "target": "message"}},
         _diag_problem(f=1)),
        ("byz_vr_marina rand_k ipm message",
         {**_DIAG, "f": 1, "algorithm": {"name": "byz_vr_marina", "gamma": 0.3, "p": 0.3},
          "compressor": {"name": "rand_k", "k": 2}, "attack": {"name": "ipm", "target": "message"}},
         _diag_problem(f=1)),
        ("br_diana rand_k f = 0",
         {**_DIAG, "f": 0, "algorithm": {"name": "br_diana", "gamma": 0.1},
          "compressor": {"name": "rand_k", "k": 2}}, _diag_problem(f=0)),
    ]


def _slow_cases():
    return [*_fast_cases(),
        ("byz_dm21 released variant, none (f = 1)",
         {**_ROT, "f": 1, "algorithm": {"name": "byz_dm21", "gamma": 0.5, "eta": 0.3, "variant": "released"}},
         None),
        ("byz_ef21_sgd ipm message", {**_ROT, "f": 1, "algorithm": {"name": "byz_ef21_sgd", "gamma": 0.3},
                                      "attack": {"name": "ipm", "target": "message"}}, None),
        ("byz_dm21 rand_k_biased sign_flip",
         {**_DIAG, "f": 1, "algorithm": {"name": "byz_dm21", "gamma": 0.5, "eta": 0.3},
          "compressor": {"name": "rand_k_biased", "k": 2}, "attack": {"name": "sign_flip"}},
         _diag_problem(f=1)),
        ("byz_ef21 rand_k_biased, none", {**_DIAG, "f": 0, "algorithm": {"name": "byz_ef21", "gamma": 0.5},
                                          "compressor": {"name": "rand_k_biased", "k": 2}}, _diag_problem()),
        ("byz_vr_marina rand_k ipm state",
         {**_DIAG, "f": 1, "algorithm": {"name": "byz_vr_marina", "gamma": 0.3, "p": 0.3},
          "compressor": {"name": "rand_k", "k": 2}, "attack": {"name": "ipm"}}, _diag_problem(f=1)),
        ("byz_dasha_page rand_k",
         {**_DIAG, "f": 0, "algorithm": {"name": "byz_dasha_page", "gamma": 0.2, "p": 0.3},
          "compressor": {"name": "rand_k", "k": 2}}, _diag_problem()),
        ("br_csgd rand_k ipm", {**_DIAG, "f": 1, "algorithm": {"name": "br_csgd", "gamma": 0.1},
                                "compressor": {"name": "rand_k", "k": 2}, "attack": {"name": "ipm"}},
         _diag_problem(f=1)),
            ]


def test_monte_carlo_contains_exact():
    """6 configurations × 4 quantities = 24 checks, 160 seeds, T = 40 (simultaneous 99%)."""
    _check_cases(_fast_cases(), T=40, seeds=160)


@pytest.mark.slow
def test_monte_carlo_contains_exact_all_methods():
    """13 configurations (every supported method) × 4 quantities = 52 checks, 600 seeds, T = 80."""
    _check_cases(_slow_cases(), T=80, seeds=600)


# --- (c) the stability boundary is where the engine starts to diverge ---------------------------------
@pytest.mark.parametrize("alg", [{"name": "byz_dm21", "eta": 0.2},
                                 {"name": "byz_vr_dm21", "eta": 0.1, "eta2": 0.5},
                                 {"name": "byz_ef21_sgdm", "eta": 0.3}])
def test_engine_diverges_beyond_the_boundary(alg):
    """σ = 0 (deterministic): at 0.95 γ* the engine's ‖∇f‖² ends below where it started; at 1.05 γ* it grows
    by more than 10⁶ within T = ⌈log 10⁸ / log ρ(1.05 γ*)⌉ steps."""
    prob = Quadratic.from_arrays(np.diag([1.0, 0.3]), np.zeros((1, 2)), sigma2=0.0, x0=np.array([1.0, 1.0]))
    cfg = {"seed": 0, "n": 1, "T": 10, "problem": {"name": "quadratic", "d": 2},
           "algorithm": {**alg, "gamma": 0.1}, "record": {"log": 50}}
    model = ExactModel.from_spec(dataclasses.replace(build(cfg), problem=prob))
    g_star = model.stability_limit()
    rho = model.spectral_radius({"gamma": 1.05 * g_star})
    assert rho > 1.0
    T = int(min(20000, math.ceil(math.log(1e8) / math.log(rho)) + 50))
    for factor, diverges in ((0.95, False), (1.05, True)):
        c = {**cfg, "T": T, "algorithm": {**alg, "gamma": factor * g_star}}
        r = run(dataclasses.replace(build(c), problem=prob), fast=False)
        g = r.curves["grad_sq"]
        if diverges:
            assert g.max() > 1e6 * g[0], (factor, g.max() / g[0])
        else:
            assert r.status != "diverged" and g[-1] < g[0] and g.max() < 1e3 * g[0], (factor, g[-1] / g[0])


# --- the stability figure -----------------------------------------------------------------------------
def test_stability_figure_draws_the_oracle():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from plots.stability import _model, plot_stability, stability_data

    data = stability_data(etas=[0.05, 0.5], compressors=[{"name": "identity"}])
    ef = next(c for c in data["curves"] if c["method"] == "byz_ef21_sgdm")
    # heavy ball with step γη and momentum 1 − η: stable iff γηL < 2(2 − η)
    assert ef["gamma_L"] == pytest.approx([2 * (2 - e) / e for e in data["eta"]], rel=1e-3)
    dm = next(c for c in data["curves"] if c["method"] == "byz_dm21")
    model = _model("byz_dm21", {"name": "identity"}, data["n"], data["d"])
    assert dm["gamma_L"][0] == pytest.approx(model.stability_limit({"eta": 0.05}), rel=1e-3)
    fig, ax = plt.subplots()
    plot_stability(ax, data)
    assert ax.get_xlabel() == "momentum η" and "γL" in ax.get_ylabel()
    assert len(ax.get_lines()) == len(data["curves"])
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), dm["gamma_L"])
    assert ax.get_legend() is not None
    plt.close(fig)


@pytest.mark.parametrize("alg", [{"name": "byz_dm21", "gamma": 0.05, "eta": 0.5},
                                 {"name": "byz_ef21_sgdm", "gamma": 0.05, "eta": 0.5},
                                 {"name": "byz_ef21_sgd", "gamma": 0.05}])
def test_message_target_increments_keep_a_finite_stationary_value(alg):
    """IPM on the messages of an increment method: b⁰ = κ·ḡ⁰ and b' = b + κ·(mean message) = κ·ḡ' on every
    path, so the run equals the state target; the moment map must not keep the invariant b − κḡ as a
    unit eigenvalue (a spectral radius of 1 would make the stationary value inf and the stable γ 0)."""
    cfg = {"seed": 1, "n": 6, "f": 1, "T": 10,
           "problem": {"name": "quadratic", "d": 5, "sigma2": 0.5, "zeta2": 0.3},
           "algorithm": alg, "attack": {"name": "ipm", "eps": 0.5, "target": "state"}}
    state = ExactModel.from_config(cfg)
    msg = ExactModel.from_config({**cfg, "attack": {**cfg["attack"], "target": "message"}})
    assert msg.spectral_radius() == pytest.approx(state.spectral_radius(), rel=1e-12)
    assert msg.spectral_radius() < 1.0
    st_s, st_m = state.stationary(), msg.stationary()
    assert math.isfinite(st_m["grad_sq"])
    assert st_m["grad_sq"] == pytest.approx(st_s["grad_sq"], rel=1e-9)
    assert msg.stability_limit() == pytest.approx(state.stability_limit(), rel=1e-5)
    np.testing.assert_allclose(msg.curves(50).grad_sq, state.curves(50).grad_sq, rtol=1e-10)


@pytest.mark.parametrize("call,match", [
    (lambda m: m.stationary({"gamma": -1.0}), r"gamma = -1.0 is outside"),
    (lambda m: m.stationary({"gamma": "x"}), r"gamma.*'x'"),
    (lambda m: m.spectral_radius({"eta": 2.0}), r"eta = 2.0 is outside"),
    (lambda m: m.curves(5, {"batch": 0}), r"batch = 0 is outside"),
    (lambda m: m.avg_grad_sq(2.5), r"T must be an integer, got 2.5"),
])
def test_bad_overrides_are_one_config_error(call, match):
    """Out-of-range or non-numeric parameters end in one ConfigError line, not inf or a NumPy traceback."""
    model = ExactModel.from_config(_quad_cfg(algorithm={"name": "byz_dm21", "gamma": 0.1, "eta": 0.2}))
    with pytest.raises(ConfigError, match=match) as exc:
        call(model)
    assert "\n" not in str(exc.value)
