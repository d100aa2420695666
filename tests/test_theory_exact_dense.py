"""theory.exact's dense path: a random sparsifier with a non-diagonal A (A = Qᵀ diag(a) Q, Q Haar).

Checks: the mask's second moment against enumeration and the compressor's own sampler; the dense path equals
the per-mode path on a diagonal A (forced by the ``_dense`` hook); a two-step case enumerated by hand; the
engine's Monte-Carlo intervals (Bonferroni-simultaneous 99%, as in tests/test_theory_exact.py) contain the
exact values on the built-in rotated quadratic; the size guard's message.
"""

from __future__ import annotations

import itertools
import math
from statistics import NormalDist

import numpy as np
import pytest
from reference.monte_carlo import engine_moments, exact_values

from byzref.algorithms import ALGORITHMS
from byzref.attacks import ATTACKS
from byzref.compressors import COMPRESSORS
from byzref.config import build
from byzref.errors import ConfigError
from byzref.rng import stream
from problems.quadratic import Quadratic
from theory.exact import ExactModel, mask_moments


# --- the mask's second moment ---------------------------------------------------------------------------
@pytest.mark.parametrize("name,scale_of", [("rand_k", lambda d, k: d / k),
                                           ("rand_k_biased", lambda d, k: 1.0)])
def test_mask_second_moment_by_enumeration(name, scale_of):
    """E (D − p̄I) Y (D − p̄I) over all k-subsets (each equally likely) = α Y + β Diag(Y)."""
    d, k = 5, 2
    s = scale_of(d, k)
    Y = np.random.default_rng(0).standard_normal((d, d))
    subsets = list(itertools.combinations(range(d), k))
    Dbar = np.zeros((d, d))
    acc = np.zeros((d, d))
    for S in subsets:
        D = np.zeros((d, d))
        D[list(S), list(S)] = s
        Dbar += D / len(subsets)
    for S in subsets:
        D = np.zeros((d, d))
        D[list(S), list(S)] = s
        acc += (D - Dbar) @ Y @ (D - Dbar) / len(subsets)
    pbar, alpha, beta = mask_moments(d, k, s)
    np.testing.assert_allclose(Dbar, pbar * np.eye(d), rtol=1e-14)
    np.testing.assert_allclose(acc, alpha * Y + beta * np.diag(np.diag(Y)), rtol=1e-12, atol=1e-14)


def test_mask_second_moment_matches_the_compressor():
    """The compressor's own draws (rand_k on rows of ones: r = (d/k)·mask): E r_a r_b within 5 s.e. of
    (d/k)²·k/d on the diagonal and (d/k)²·k(k − 1)/(d(d − 1)) off it."""
    d, k, N = 6, 2, 100_000
    comp = COMPRESSORS.build({"name": "rand_k", "k": k})
    r = comp(np.ones((N, d)), np.random.default_rng(1))
    pbar, alpha, beta = mask_moments(d, k, d / k)
    expect = (alpha + pbar**2) * np.ones((d, d)) + beta * np.eye(d)  # E r rᵀ = E D 11ᵀ D
    prod = r[:, :, None] * r[:, None, :]
    mean, se = prod.mean(axis=0), prod.std(axis=0) / math.sqrt(N)
    assert (np.abs(mean - expect) < 5 * se + 1e-12).all(), (mean, expect)
    assert r.mean(axis=0) == pytest.approx(np.full(d, pbar), abs=0.02)


# --- (a) equals the per-mode path on a diagonal A -------------------------------------------------------
def _diag_problem(n=5, f=1):
    rng = np.random.default_rng(5)
    a = (1.0, 0.5, 0.2, 0.0)
    return Quadratic.from_arrays(np.diag(a), 0.7 * rng.standard_normal((n, len(a))), f=f, sigma2=1.0,
                                 x0=np.linspace(-1.0, 2.0, len(a)))


@pytest.mark.parametrize("alg,comp,attack,target", [
    ({"name": "byz_dm21", "gamma": 0.3, "eta": 0.3}, "rand_k_biased", "ipm", "state"),
    ({"name": "byz_vr_dm21", "gamma": 0.2, "eta": 0.3, "eta2": 0.5, "init": "released"}, "rand_k_biased",
     "sign_flip", "message"),
    ({"name": "byz_vr_marina", "gamma": 0.2, "p": 0.3}, "rand_k", "ipm", "message"),
    ({"name": "br_diana", "gamma": 0.1}, "rand_k", "sign_flip", "state"),
])
def test_dense_equals_per_mode_on_a_diagonal_A(alg, comp, attack, target):
    prob = _diag_problem()
    args = (prob, ALGORITHMS.build(alg), COMPRESSORS.build({"name": comp, "k": 2}))
    kw = {"attack": ATTACKS.build({"name": attack}), "target": target}
    modes, dense = ExactModel(*args, **kw), ExactModel(*args, **kw, _dense=True)
    assert modes._dense is None and dense._dense is not None
    c1, c2 = modes.curves(150), dense.curves(150)
    for key in ("grad_sq", "f_gap", "dist_sq"):
        np.testing.assert_allclose(c2.__dict__[key], c1.__dict__[key], rtol=1e-12)
    s1, s2 = modes.stationary(), dense.stationary()
    assert s2["grad_sq"] == pytest.approx(s1["grad_sq"], rel=1e-12)
    assert s2["f_gap"] == pytest.approx(s1["f_gap"], rel=1e-12)
    assert dense.spectral_radius() == pytest.approx(modes.spectral_radius(), rel=1e-12)
    assert dense.avg_grad_sq(10**6) == pytest.approx(modes.avg_grad_sq(10**6), rel=1e-12)
    np.testing.assert_allclose(dense.at([0, 7, 4000])["grad_sq"], modes.at([0, 7, 4000])["grad_sq"],
                               rtol=1e-10)


def test_dense_stability_limit_equals_per_mode():
    prob = _diag_problem()
    args = (prob, ALGORITHMS.build({"name": "byz_ef21_sgdm", "gamma": 0.3, "eta": 0.3}),
            COMPRESSORS.build({"name": "rand_k_biased", "k": 2}))
    kw = {"attack": ATTACKS.build({"name": "ipm"})}
    g1 = ExactModel(*args, **kw).stability_limit()
    dense = ExactModel(*args, **kw, _dense=True)
    assert dense.stability_limit() == pytest.approx(g1, rel=1e-5)
    assert dense.spectral_radius({"gamma": 0.99 * g1}) < 1.0 < dense.spectral_radius({"gamma": 1.01 * g1})


# --- (c) two steps by hand on a rotated 2 × 2 A ------------------------------------------------------------
def test_ef21_rand_k_biased_two_steps_by_enumeration():
    """One worker, σ = 0, Byz-EF21 (full gradients) with rand_k_biased, k = 1 on A = R diag(1, 0.3) Rᵀ:
    g⁰ = ∇f(x⁰); x^{t+1} = xᵗ − γgᵗ; g^{t+1} = gᵗ + m ⊙ (∇f(x^{t+1}) − gᵗ), m = e₁ or e₂ with probability ½.
    The four mask paths of two steps give E‖∇f(xᵗ)‖², E f − f*, E‖xᵗ − x*‖² for t = 0..3."""
    th, gamma = 0.6, 0.7
    R = np.array([[math.cos(th), -math.sin(th)], [math.sin(th), math.cos(th)]])
    A = R @ np.diag([1.0, 0.3]) @ R.T
    b = np.array([[0.4, -0.2]])
    x0 = np.array([1.0, 2.0])
    prob = Quadratic.from_arrays(A, b, sigma2=0.0, x0=x0)
    model = ExactModel(prob, ALGORITHMS.build({"name": "byz_ef21", "gamma": gamma}),
                       COMPRESSORS.build({"name": "rand_k_biased", "k": 1}))
    assert model._dense is not None
    c = model.curves(3)
    masks = [np.array([1.0, 0.0]), np.array([0.0, 1.0])]
    grad = lambda x: A @ (x - b[0])  # noqa: E731
    vals = np.zeros((4, 3))
    for m1, m2 in itertools.product(masks, masks):
        x, g = x0.copy(), grad(x0)
        xs = [x]
        for m in (m1, m2, None):
            x = x - gamma * g
            xs.append(x)
            if m is not None:
                g = g + m * (grad(x) - g)
        for t, xt in enumerate(xs):
            e = xt - b[0]
            vals[t] += 0.25 * np.array([grad(xt) @ grad(xt), 0.5 * e @ A @ e, e @ e])
    np.testing.assert_allclose(c.grad_sq, vals[:, 0], rtol=1e-12)
    np.testing.assert_allclose(c.f_gap, vals[:, 1], rtol=1e-12)
    np.testing.assert_allclose(c.dist_sq, vals[:, 2], rtol=1e-12)
    assert c.grad_sq[3] != pytest.approx(c.grad_sq[2], rel=1e-3)  # the masks matter


# --- (d) the size guard ------------------------------------------------------------------------------------
def test_size_guard():
    cfg = {"seed": 0, "n": 3, "T": 10, "problem": {"name": "quadratic", "d": 11},
           "algorithm": {"name": "byz_dm21", "gamma": 0.1, "eta": 0.2},
           "compressor": {"name": "rand_k_biased", "k": 2}}
    with pytest.raises(ConfigError, match=r"d = 11 is above 10, .*non-diagonal A.*Quadratic.from_arrays.*"
                                          r"compressor 'identity'"):
        ExactModel.from_config(cfg)
    ExactModel.from_config({**cfg, "compressor": {"name": "identity"}})  # the per-mode path has no limit


# --- (b) the engine's Monte-Carlo confidence intervals on the rotated quadratic -------------------------
_ROT = {"n": 4, "f": 1, "problem": {"name": "quadratic", "d": 6, "zero_eigs": 1, "mu": 0.2, "sigma2": 1.0,
                                    "zeta2": 0.5}}


def _cases():
    return [
        ("byz_dm21 rand_k_biased ipm", {**_ROT, "algorithm": {"name": "byz_dm21", "gamma": 0.5, "eta": 0.3},
                                        "compressor": {"name": "rand_k_biased", "k": 2},
                                        "attack": {"name": "ipm"}}),
        ("byz_ef21_sgdm rand_k_biased sign_flip message",
         {**_ROT, "algorithm": {"name": "byz_ef21_sgdm", "gamma": 0.5, "eta": 0.4},
          "compressor": {"name": "rand_k_biased", "k": 2},
          "attack": {"name": "sign_flip", "target": "message"}}),
        ("byz_vr_marina rand_k ipm message",
         {**_ROT, "algorithm": {"name": "byz_vr_marina", "gamma": 0.3, "p": 0.3},
          "compressor": {"name": "rand_k", "k": 3}, "attack": {"name": "ipm", "target": "message"}}),
    ]


def test_monte_carlo_contains_exact_on_a_rotated_quadratic():
    """3 configurations × 4 quantities (avg over t < T of E‖∇f‖², E‖∇f(x^T)‖², E f(x^T) − f*, E‖x^T − x*‖²),
    160 seeds, T = 40, simultaneous 99%."""
    T, seeds = 40, 160
    cases = _cases()
    z = NormalDist().inv_cdf(1.0 - 0.01 / (2 * 4 * len(cases)))
    bad = []
    for name, cfg in cases:
        cfg = {**cfg, "T": T, "record": {"every": T}}
        model = ExactModel.from_spec(build({**cfg, "seed": 0}, problem_rng=stream(0, "problem")))
        assert model._dense is not None
        exact = exact_values(model.curves(T))
        mean, se = engine_moments(
            lambda s, cfg=cfg: build({**cfg, "seed": s}, problem_rng=stream(0, "problem")), seeds)
        zs = (mean - exact) / se
        if (np.abs(zs) > z).any():
            bad.append(f"{name}: z-scores {np.round(zs, 2).tolist()} (limit {z:.2f})")
    assert not bad, "; ".join(bad)


def test_dense_paths_agree_on_a_rotated_quadratic():
    """Stepping, binary powers, the stationary solve, ARPACK vs dense eigenvalues and the positivity test of
    stability_limit give the same answers (rotated A, d = 6, an attack: 796 map entries)."""
    cfg = {**_ROT, "seed": 0, "T": 10, "algorithm": {"name": "byz_dm21", "gamma": 0.5, "eta": 0.3},
           "compressor": {"name": "rand_k_biased", "k": 2}, "attack": {"name": "ipm"}}
    model = ExactModel.from_config(cfg)
    c = model.curves(2000)
    np.testing.assert_allclose(model.at([0, 7, 1999])["f_gap"], c.f_gap[[0, 7, 1999]], rtol=1e-9)
    assert model.avg_grad_sq(2000) == pytest.approx(c.avg_grad_sq, rel=1e-9)
    st = model.stationary()
    assert st["grad_sq"] == pytest.approx(c.grad_sq[-1], rel=1e-6)
    assert st["dist_sq"] == math.inf  # one zero eigenvalue, σ > 0
    D = model._dense
    Mop, _ = D.operator(model.params())
    assert D.rest.size > 600  # the ARPACK branch
    exact_rho = float(np.abs(np.linalg.eigvals(Mop[np.ix_(D.rest, D.rest)])).max())
    assert model.spectral_radius() == pytest.approx(exact_rho, rel=1e-9)
    g = model.stability_limit()
    assert model.spectral_radius({"gamma": 0.999 * g}) < 1.0 < model.spectral_radius({"gamma": 1.001 * g})
