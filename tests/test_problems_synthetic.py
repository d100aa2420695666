"""quadratic and nonconvex_synthetic: exact constants, noise, kernel vs reference."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import problems as ref

from byzref.errors import ConfigError
from problems import build_problem
from problems.nonconvex_synthetic import NonconvexSynthetic, _nc_grads
from problems.quadratic import Quadratic


def quad(seed=0, n=6, f=2, **kw):
    cfg = {"name": "quadratic", "d": 8, "zero_eigs": 3, "zeta2": 2.5, "sigma2": 0.7, **kw}
    return build_problem(cfg, np.random.default_rng(seed), n=n, f=f)


def ncs(seed=0, n=6, f=2, **kw):
    cfg = {"name": "nonconvex_synthetic", "d": 8, "zeta2": 1.5, "sigma2": 0.7, **kw}
    return build_problem(cfg, np.random.default_rng(seed), n=n, f=f)


def power_ratio(p, iters=200):
    """max ‖∇f(x+v) − ∇f(x)‖/‖v‖ found by power iteration through the gradient oracle."""
    rng = np.random.default_rng(0)
    x, v = p.x0(), rng.standard_normal(p.d)
    for _ in range(iters):
        w = p.grad(x + v) - p.grad(x)
        v = w / np.linalg.norm(w)
    return np.linalg.norm(p.grad(x + v) - p.grad(x)) / np.linalg.norm(v)


@pytest.mark.parametrize("seed", range(3))
def test_quadratic_constants_exact(seed):
    p = quad(seed)
    c = p.constants
    assert (c.L, c.mu, c.zeta2, c.sigma2, c.B) == pytest.approx((1.0, 0.01, 2.5, 0.7, 0.0), rel=1e-12)
    assert c.extra["zero_eigs"] == 3
    # Hessian recovered column by column from the oracle, then its spectrum by eigh
    H = np.array([p.grad(e) - p.grad(np.zeros(p.d)) for e in np.eye(p.d)]).T
    ev = np.linalg.eigvalsh((H + H.T) / 2)
    np.testing.assert_allclose(ev, np.concatenate([np.zeros(3), np.geomspace(0.01, 1.0, 5)]), atol=1e-12)
    assert power_ratio(p) >= 0.9 * c.L  # nearly attained
    # f*, x*, PL with mu on random points, ζ² at any point (B = 0)
    xs = p.x_star()
    assert p.loss(xs) == pytest.approx(c.f_star, rel=1e-12)
    np.testing.assert_allclose(p.grad(xs), 0.0, atol=1e-12)
    rng = np.random.default_rng(seed)
    for _ in range(20):
        x = xs + rng.standard_normal(p.d) * 3
        assert p.loss(x) >= c.f_star - 1e-12
        assert p.grad(x) @ p.grad(x) >= 2 * c.mu * p.gap(x) * (1 - 1e-10)
        assert p.zeta2_at(x) == pytest.approx(2.5, rel=1e-10)
    # loss against the per-worker reference
    x = p.x0()
    assert p.loss(x) == pytest.approx(ref.quadratic_loss(p._A, p._b, p.f, x), rel=1e-12)


def test_quadratic_pl_bound_is_tight_in_the_flattest_positive_direction():
    p = quad(1)
    H = np.array([p.grad(e) - p.grad(np.zeros(p.d)) for e in np.eye(p.d)]).T
    _, V = np.linalg.eigh((H + H.T) / 2)
    x = p.x_star() + V[:, 3]  # eigenvector of the smallest positive eigenvalue
    assert p.grad(x) @ p.grad(x) == pytest.approx(2 * p.constants.mu * p.gap(x), rel=1e-9)


def test_quadratic_from_arrays_reproduces_and_validates():
    p = quad(2)
    q = Quadratic.from_arrays(p._A, p._b, f=2, sigma2=0.7, x0=p.x0())
    x = p.x0() + 1.0
    np.testing.assert_allclose(q.worker_grads(x), p.worker_grads(x), rtol=1e-13)
    for k in ("L", "mu", "f_star", "zeta2"):
        assert getattr(q.constants, k) == pytest.approx(getattr(p.constants, k), rel=1e-9)
    with pytest.raises(ConfigError, match="semidefinite"):
        Quadratic.from_arrays(-np.eye(3), np.zeros((2, 3)))
    with pytest.raises(ConfigError, match="symmetric"):
        Quadratic.from_arrays(np.triu(np.ones((3, 3))), np.zeros((2, 3)))
    with pytest.raises(ConfigError, match="same d"):
        Quadratic.from_arrays(np.eye(3), np.zeros((2, 4)))
    with pytest.raises(ConfigError, match="non-finite"):
        Quadratic.from_arrays(np.diag([1.0, np.nan]), np.zeros((2, 2)))
    with pytest.raises(ConfigError, match="mu"):
        quad(0, mu=2.0)
    with pytest.raises(ConfigError, match="zero_eigs"):
        quad(0, zero_eigs=8)
    with pytest.raises(ConfigError, match="2 good workers"):
        quad(0, n=3, f=2)


@pytest.mark.parametrize("tau", [0.0, 0.3])
def test_nonconvex_constants_exact(tau):
    p = ncs(0, curvature_std=tau, lam=0.8, a_max=0.9)
    c = p.constants
    assert c.L == pytest.approx(0.9 + 1.6, rel=1e-15) and c.f_star == 0.0 and c.mu is None
    assert c.zeta2 == pytest.approx(1.5, rel=1e-12) and c.B == 0.0
    # L attained at x = 0 along the largest a_j; never exceeded (also checked by the conformance suite)
    j, t = int(np.argmax(p._a)), 1e-6
    e = np.zeros(p.d)
    e[j] = t
    assert np.linalg.norm(p.grad(e) - p.grad(np.zeros(p.d))) / t >= 0.999 * c.L
    # genuinely nonconvex at x0: a negative Hessian entry a_j + λφ''(x_j) (from finite differences of ∇f)
    x, h = p.x0(), 1e-6
    diag = [(p.grad(x + h * ei)[k] - p.grad(x - h * ei)[k]) / (2 * h) for k, ei in enumerate(np.eye(p.d))]
    assert min(diag) < -0.05
    # f ≥ 0 = f(0) and ∇f(0) = 0
    rng = np.random.default_rng(1)
    assert all(p.loss(rng.standard_normal(p.d) * s) >= 0 for s in (0.1, 1, 10) for _ in range(10))
    assert p.loss(np.zeros(p.d)) == 0.0
    np.testing.assert_allclose(p.grad(np.zeros(p.d)), 0.0, atol=1e-15)
    for _ in range(5):
        assert p.zeta2_at(rng.standard_normal(p.d) * 4) == pytest.approx(1.5, rel=1e-10)
    assert p.loss(x) == pytest.approx(ref.nonconvex_loss(p._a, 0.8, p._s, p.f, x), rel=1e-12)
    if tau:
        R = c.extra["region_radius"]
        assert c.sigma2 == pytest.approx(0.7 + tau**2 * R**2) and not c.exact["sigma2"]


@pytest.mark.parametrize("make", [quad, ncs])
@pytest.mark.parametrize("batch", [1, 5])
def test_noise_is_exactly_the_sample_and_its_variance_is_sigma2_over_batch(make, batch):
    p = make(3)
    x = p.x0()
    rng = np.random.default_rng(batch)
    K = 300
    S = np.array([p.draw(rng, batch) for _ in range(K)])  # (K, n, d)
    for s in S[:5]:
        np.testing.assert_allclose(p.stoch_grads(x, s) - p.worker_grads(x), s, atol=1e-13)
    # ‖ξ‖² ~ σ²/(b d) χ²_d: the mean over K·n draws has relative sd sqrt(2/(d K n)); allow 5 sd
    m = (S**2).sum(axis=2).mean()
    assert m == pytest.approx(0.7 / batch, rel=5 * np.sqrt(2 / (p.d * K * p.n)))


@pytest.mark.parametrize("batch", [1, 4])
def test_curvature_noise_variance_and_two_point_difference(batch):
    tau = 0.4
    p = ncs(4, curvature_std=tau, sigma2=0.7)
    x, y = p.x0(), p.x0() * 0.3
    rng = np.random.default_rng(0)
    K = 400
    dev, diff = [], []
    for _ in range(K):
        s = p.draw(rng, batch)
        assert s.shape == (p.n, 2, p.d)
        a, b = p.stoch_grads_pair(x, y, s)
        dev.append(((a - p.worker_grads(x)) ** 2).sum(axis=1))
        diff.append((((a - b) - (p.worker_grads(x) - p.worker_grads(y))) ** 2).sum(axis=1))
    want = (0.7 + tau**2 * x @ x) / batch
    assert np.mean(dev) == pytest.approx(want, rel=0.05)   # K·n = 2400 draws: sd ≈ 1.5 %
    assert np.mean(dev) == pytest.approx(p.sigma2_at(x) / batch, rel=0.05)
    assert np.mean(diff) == pytest.approx(tau**2 * (x - y) @ (x - y) / batch, rel=0.08)
    assert p.sigma2_at(x) <= p.constants.sigma2  # x0 is inside the reported region


def test_nonconvex_from_arrays_requires_centred_shifts():
    a = np.array([0.0, 0.1, 1.0])
    s = np.array([[1.0, 0, 0], [-1.0, 0, 0], [5.0, 5, 5]])
    p = NonconvexSynthetic.from_arrays(a, 0.5, s, f=1, sigma2=0.0)
    assert p.constants.zeta2 == pytest.approx(1.0) and p.constants.L == pytest.approx(2.0)
    with pytest.raises(ConfigError, match="sum to zero"):
        NonconvexSynthetic.from_arrays(a, 0.5, s, f=0)
    with pytest.raises(ConfigError, match="lam"):
        NonconvexSynthetic.from_arrays(a, 0.0, s, f=1)
    with pytest.raises(ConfigError, match="non-finite"):
        NonconvexSynthetic.from_arrays(np.array([np.nan, 0, 0]), 0.5, s, f=1)


@settings(max_examples=25)
@given(n=st.integers(1, 5), d=st.integers(1, 9), k=st.integers(0, 2), seed=st.integers(0, 2**32 - 1))
def test_nc_kernel_matches_reference(n, d, k, seed):
    rng = np.random.default_rng(seed)
    a, lam = rng.random(d), float(rng.random() + 0.1)
    shifts, x = rng.standard_normal((n, d)), rng.standard_normal(d) * 2
    samples = rng.standard_normal((n, k, d))
    out = np.empty((n, d))
    _nc_grads(a, lam, shifts, x, samples, out)
    want = ref.nonconvex_grads(a, lam, shifts, x, samples[:, 0] if k >= 1 else None,
                               samples[:, 1] if k == 2 else None)
    np.testing.assert_allclose(out, want, rtol=1e-13, atol=1e-14)


@settings(max_examples=50)
@given(seed=st.integers(0, 2**32 - 1), scale=st.sampled_from([0.01, 0.5, 1.0, 3.0, 30.0]))
def test_nonconvex_L_never_exceeded_on_random_instances_and_pairs(seed, scale):
    rng = np.random.default_rng(seed)
    d = int(rng.integers(1, 6))
    a = rng.random(d) * rng.choice([0.0, 1.0], d)
    s = rng.standard_normal((3, d))
    s[:2] -= s[:2].mean(axis=0)
    p = NonconvexSynthetic.from_arrays(a, float(rng.random() + 0.01), s, f=1)
    x, y = rng.standard_normal(d) * scale, rng.standard_normal(d) * scale
    lhs = np.linalg.norm(p.grad(x) - p.grad(y))
    assert lhs <= p.constants.L * np.linalg.norm(x - y) * (1 + 1e-12) + 1e-15
    assert (np.linalg.norm(p.worker_grads(x) - p.worker_grads(y), axis=1)
            <= p.constants.L_i * np.linalg.norm(x - y) * (1 + 1e-12) + 1e-15).all()


@pytest.mark.parametrize("curvature", [0.0, 0.3])
def test_draw_block_equals_successive_draws(curvature):
    from byzref.rng import stream

    prob = NonconvexSynthetic(d=7, n=5, f=1, sigma2=0.7, curvature_std=curvature, rng=stream(0, "p"))
    block = prob.draw_block(stream(1, "s"), batch=3, count=4)
    rng = stream(1, "s")
    singles = np.stack([prob.draw(rng, 3) for _ in range(4)])
    np.testing.assert_array_equal(block, singles)
    buf = np.full_like(block, np.nan)
    out = prob.draw_block(stream(1, "s"), batch=3, count=4, out=buf)
    assert np.shares_memory(out, buf)
    np.testing.assert_array_equal(out, singles)
