"""Finite-sum problems (logreg_nonconvex, logreg_l2, least_squares): kernels vs NumPy references,
constants from data, exact σ² by enumeration, label flip, from_arrays validation."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import problems as ref

from byzref.errors import ConfigError
from problems import build_problem
from problems._fs_kernels import _coef, fs_full_grads, fs_stoch_grads, fs_stoch_grads_pair
from problems.least_squares import LeastSquares
from problems.logreg_l2 import LogregL2
from problems.logreg_nonconvex import LogregNonconvex

KINDS = {LogregNonconvex: ("logistic", "nonconvex"), LogregL2: ("logistic", "l2"),
         LeastSquares: ("squares", "l2")}
CLASSES = list(KINDS)


def data(seed, counts, d):
    rng = np.random.default_rng(seed)
    N = int(np.sum(counts))
    A = rng.standard_normal((N, d)) / np.sqrt(d)
    y = np.where(rng.random(N) < 0.5, 1.0, -1.0)
    return A, y, np.asarray(counts, dtype=np.int64)


@settings(max_examples=20)
@given(counts=st.lists(st.integers(1, 6), min_size=1, max_size=4), d=st.integers(1, 7),
       batch=st.integers(1, 3), lam=st.floats(0.0, 1.0), seed=st.integers(0, 2**32 - 1),
       cls=st.sampled_from(CLASSES), ysign=st.sampled_from([1.0, -1.0]))
def test_kernels_match_reference(counts, d, batch, lam, seed, cls, ysign):
    kind, reg = KINDS[cls]
    A, y, c = data(seed, counts, d)
    rng = np.random.default_rng(seed + 1)
    x, x2 = rng.standard_normal(d), rng.standard_normal(d)
    off = np.concatenate([[0], np.cumsum(c)]).astype(np.int64)
    n = c.size
    idx = rng.integers(0, c[:, None], size=(n, batch))
    out, out2 = np.empty((n, d)), np.empty((n, d))
    fs_full_grads(A, np.ascontiguousarray(A.T), y, off, x, lam, cls.loss_kind, cls.reg_kind, ysign, out)
    want = ref.worker_grads(A, y, c, x, lam, kind, reg, ysign)
    np.testing.assert_allclose(out, want, rtol=1e-11, atol=1e-13)
    assert fs_stoch_grads(A, y, off, idx, x, lam, cls.loss_kind, cls.reg_kind, ysign, out) == 0
    want = ref.stoch_grads(A, y, c, idx, x, lam, kind, reg, ysign)
    np.testing.assert_allclose(out, want, rtol=1e-11, atol=1e-13)
    assert fs_stoch_grads_pair(A, y, off, idx, x, x2, lam, cls.loss_kind, cls.reg_kind, ysign, out, out2) == 0
    np.testing.assert_allclose(out, want, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(out2, ref.stoch_grads(A, y, c, idx, x2, lam, kind, reg, ysign), rtol=1e-11,
                               atol=1e-13)


def _dot_in_order(a, x):
    """a·x with the kernel's four running sums (k mod 4, the tail in the first), combined (s0+s1)+(s2+s3)."""
    s = [0.0, 0.0, 0.0, 0.0]
    d = len(x)
    k = 0
    while k + 4 <= d:
        for lane in range(4):
            s[lane] += float(a[k + lane]) * float(x[k + lane])
        k += 4
    for kk in range(k, d):
        s[0] += float(a[kk]) * float(x[kk])
    return (s[0] + s[1]) + (s[2] + s[3])


def _coef_in_order(z, yj, loss_kind):
    if loss_kind == 1:
        return z - yj
    t = yj * z
    if t >= 0.0:
        e = math.exp(-t)
        return -yj * e / (1.0 + e)
    return -yj / (1.0 + math.exp(t))


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize(("d", "counts"), [(1, [1, 4, 5, 9, 3]), (3, [1, 4, 5, 9, 3]), (4, [1, 4, 5, 9, 3]),
                                           (7, [1, 4, 5, 9, 3]), (30, [1, 4, 5, 9, 3]),
                                           (9, [3, 250, 2, 300, 7])])
def test_full_gradients_add_the_rows_in_order_bit_for_bit(cls, d, counts):
    # fs_full_grads forms the margins a_jᵀx from the transposed data, many rows side by side in chunks
    # of MARGIN_CHUNK rows (the second set of counts crosses chunk and worker boundaries), and adds
    # four rows per pass; every number must be the plain loop's: Σ_j c_j a_j in row order, then
    # ·1/m_i + ∇r, with the one-row dot product and the coefficient written out below.
    A, y, c = data(d, counts, d)
    off = np.concatenate([[0], np.cumsum(c)]).astype(np.int64)
    x = np.random.default_rng(d).standard_normal(d) * 3.0
    lam = 0.3
    out = np.empty((len(counts), d))
    fs_full_grads(A, np.ascontiguousarray(A.T), y, off, x, lam, cls.loss_kind, cls.reg_kind, -1.0, out)
    for i in range(len(counts)):
        acc = [0.0] * d
        for j in range(off[i], off[i + 1]):
            cj = _coef_in_order(_dot_in_order(A[j], x), -1.0 * float(y[j]), cls.loss_kind)
            for k in range(d):
                acc[k] += cj * float(A[j, k])
        inv = 1.0 / (off[i + 1] - off[i])
        for k in range(d):
            xk = float(x[k])
            q = 1.0 + xk * xk
            r = {0: 0.0, 1: lam * xk, 2: lam * 2.0 * xk / (q * q)}[cls.reg_kind]
            assert out[i, k] == acc[k] * inv + r


def test_full_gradients_of_a_block_of_workers_equal_the_rows_of_all():
    # the engine asks for workers lo..hi − 1 alone (the Byzantine block starts at n − f): offsets that do
    # not start at 0, and margins indexed from the block's first row
    counts = [5, 300, 7, 4, 9]
    A, y, c = data(7, counts, 11)
    AT = np.ascontiguousarray(A.T)
    off = np.concatenate([[0], np.cumsum(c)]).astype(np.int64)
    x = np.random.default_rng(3).standard_normal(11)
    every = np.empty((5, 11))
    fs_full_grads(A, AT, y, off, x, 0.2, 0, 2, 1.0, every)
    for lo in range(1, 5):
        part = np.empty((5 - lo, 11))
        fs_full_grads(A, AT, y, off[lo:], x, 0.2, 0, 2, 1.0, part)
        assert np.array_equal(part, every[lo:])


@pytest.mark.parametrize("yj", [1.0, -1.0])
def test_logistic_coefficient_without_branches_is_the_two_branch_formula(yj):
    zs = [0.0, -0.0, 1e-300, -1e-300, 0.3, -0.3, 5.0, -5.0, 700.0, -700.0, 800.0, -800.0, np.inf, -np.inf,
          np.nan]
    zs += [-np.nan, float(np.frombuffer(bytes.fromhex("0100000000f8ff7f"), dtype=np.float64)[0])]
    for z in zs:  # NaN included: its sign and payload pass through as in the two-branch formula
        got, want = np.float64(_coef(z, yj, 0)), np.float64(_coef_in_order(z, yj, 0))
        assert got.tobytes() == want.tobytes(), z


def test_logistic_kernel_is_overflow_safe():
    A = np.array([[1.0], [1.0]])
    y = np.array([1.0, -1.0])
    off = np.array([0, 2], dtype=np.int64)
    out = np.empty((1, 1))
    fs_full_grads(A, np.ascontiguousarray(A.T), y, off, np.array([1e4]), 0.0, 0, 0, 1.0, out)
    assert out[0, 0] == pytest.approx(0.5)  # sample 1: gradient 0, sample 2: +1


@pytest.mark.parametrize("cls", CLASSES)
def test_losses_and_constants_from_data(cls):
    kind, reg = KINDS[cls]
    counts = [5, 7, 6, 4]
    A, y, c = data(3, counts, 4)
    lam = 0.2
    p = cls.from_arrays(A, y, c, f=1, lam=lam)
    x = np.random.default_rng(0).standard_normal(4)
    np.testing.assert_allclose(p.worker_losses(x), ref.worker_losses(A, y, c, x, lam, kind, reg), rtol=1e-12)
    assert p.loss(x) == pytest.approx(ref.worker_losses(A, y, c, x, lam, kind, reg)[:3].mean(), rel=1e-12)
    # L_i and L from the data matrices, independently: curvature scale ¼ (logistic) or 1 (squares)
    s = 0.25 if kind == "logistic" else 1.0
    r = {"nonconvex": 2 * lam, "l2": lam}[reg]
    blocks = ref.blocks(A, y, c)
    L_i = [s * np.linalg.eigvalsh(Ai.T @ Ai / len(Ai))[-1] + r for Ai, _ in blocks]
    np.testing.assert_allclose(p.constants.L_i, L_i, rtol=1e-12)
    Hbar = np.mean([Ai.T @ Ai / len(Ai) for Ai, _ in blocks[:3]], axis=0)
    assert p.constants.L == pytest.approx(s * np.linalg.eigvalsh(Hbar)[-1] + r, rel=1e-12)
    # L is nearly attained near x = 0 along the top eigenvector (exact at 0 for all three problems)
    v = np.linalg.eigh(Hbar)[1][:, -1] * 1e-5
    assert np.linalg.norm(p.grad(v) - p.grad(-v)) / np.linalg.norm(2 * v) >= 0.99 * p.constants.L
    # σ² at x0: enumeration of every sample through the stochastic oracle (batch 1)
    for xx in (p.x0(), x):
        sig = np.zeros(4)
        for j in range(max(counts)):
            idx = np.minimum(j, c - 1)[:, None]
            dev = ((p.stoch_grads(xx, idx) - p.worker_grads(xx)) ** 2).sum(axis=1)
            sig += np.where(j < c, dev, 0.0) / c
        np.testing.assert_allclose(sig, ref.sigma2_workers(A, y, c, xx, kind), rtol=1e-9)
        np.testing.assert_allclose(p.sigma2_workers(xx), sig, rtol=1e-9)
        assert p.sigma2_at(xx) == pytest.approx(sig[:3].max(), rel=1e-9)
    ex = p.constants.extra
    assert ex["sigma2_x0"] == pytest.approx(p.sigma2_at(p.x0()), rel=1e-12)
    if kind == "logistic":
        W = ref.worker_grads(A, y, c, p.x0(), lam, kind, reg)[:3]
        assert ex["zeta2_x0"] == pytest.approx(((W - W.mean(0)) ** 2).sum(1).mean(), rel=1e-9)
        norms = [np.linalg.norm(Ai, axis=1) for Ai, _ in blocks[:3]]
        assert p.constants.sigma2 == pytest.approx(max(np.mean(r**2) for r in norms), rel=1e-12)
        assert p.constants.zeta2 == pytest.approx(np.mean([np.mean(r) ** 2 for r in norms]), rel=1e-12)


def test_batch_b_divides_variance_exactly_by_enumeration():
    """With replacement, all m^b index tuples are equally likely: E‖g − ∇f_i‖² = σ_i²/b exactly."""
    A, y, c = data(5, [3, 4], 3)
    p = LogregNonconvex.from_arrays(A, y, c, lam=0.1)
    x = np.array([0.3, -1.0, 2.0])
    full = p.worker_grads(x)
    for b in (2, 3):
        for i, m in enumerate(c):
            tot = 0.0
            for tup in itertools.product(range(m), repeat=b):
                idx = np.zeros((2, b), dtype=np.int64)
                idx[i] = tup
                tot += ((p.stoch_grads(x, idx)[i] - full[i]) ** 2).sum()
            assert tot / m**b == pytest.approx(p.sigma2_workers(x)[i] / b, rel=1e-10)


@pytest.mark.parametrize("cls", CLASSES)
def test_label_flip_equals_negated_labels(cls):
    A, y, c = data(6, [4, 3, 5], 3)
    p, q = cls.from_arrays(A, y, c, f=1), cls.from_arrays(A, -y, c, f=1)
    x = np.array([0.5, -0.2, 1.0])
    s = p.draw(np.random.default_rng(0), 2)
    np.testing.assert_allclose(p.flipped_stoch_grads(x, s), q.stoch_grads(x, s), rtol=1e-14)
    np.testing.assert_allclose(p.flipped_worker_grads(x), q.worker_grads(x), rtol=1e-14)
    assert p.supports_label_flip


@pytest.mark.parametrize("cls", CLASSES)
def test_byzantine_shards_do_not_change_the_objective(cls):
    A, y, c = data(7, [4, 3, 5], 3)
    B = A.copy()
    B[7:] = 10.0 * np.random.default_rng(1).standard_normal((5, 3))
    p, q = cls.from_arrays(A, y, c, f=1), cls.from_arrays(B, y, c, f=1)
    x = np.array([0.1, 0.2, -0.3])
    assert p.loss(x) == q.loss(x)
    np.testing.assert_array_equal(p.grad(x), q.grad(x))
    assert p.constants.L == q.constants.L and p.constants.L_i[2] != q.constants.L_i[2]


def test_pl_problems_satisfy_pl_and_least_squares_heterogeneity_pair():
    A, y, c = data(8, [6, 5, 7, 6], 4)
    rng = np.random.default_rng(2)
    for p in (LogregL2.from_arrays(A, y, c, f=1, lam=0.05), LeastSquares.from_arrays(A, y, c, f=1),
              LeastSquares.from_arrays(A, y, c, f=1, lam=0.3)):
        k = p.constants
        assert k.f_star <= p.loss(p.x_star()) <= k.f_star + 1e-12
        for _ in range(30):
            x = p.x_star() + rng.standard_normal(4) * rng.choice([0.01, 1, 10])
            gsq = p.grad(x) @ p.grad(x)
            assert gsq >= 2 * k.mu * p.gap(x) * (1 - 1e-9)
            assert p.zeta2_at(x) <= k.B * gsq + k.zeta2 + 1e-12  # a valid (B, ζ²) pair everywhere
    ls = LeastSquares.from_arrays(A, y, c, f=1)
    np.testing.assert_allclose(ls.grad(ls.x_star()), 0.0, atol=1e-12)
    assert ls.gap(ls.x0()) == pytest.approx(ls.loss(ls.x0()) - ls.constants.f_star, rel=1e-10)
    # σ² bound over the ball ‖x‖ ≤ R: holds inside (also on the sphere), is exact at R = 0 (x = 0)
    R = ls.constants.extra["region_radius"]
    assert ls.sigma2_over_ball(0.0) == pytest.approx(ls.sigma2_at(np.zeros(4)), rel=1e-10)
    assert ls.constants.sigma2 == pytest.approx(ls.sigma2_over_ball(R))
    for _ in range(50):
        v = rng.standard_normal(4)
        x = v / np.linalg.norm(v) * R * rng.choice([0.3, 1.0])
        assert ls.sigma2_at(x) <= ls.constants.sigma2 * (1 + 1e-12)


def test_least_squares_singular_design_mu_is_smallest_positive_eigenvalue():
    A, y, c = data(9, [5, 5, 5], 3)
    A = np.hstack([A, A[:, :1]])  # duplicate column: H̄ singular
    p = LeastSquares.from_arrays(A, y, c)
    ev = np.linalg.eigvalsh(np.mean([Ai.T @ Ai / len(Ai) for Ai, _ in ref.blocks(A, y, c)], axis=0))
    assert p.constants.extra["zero_eigs"] == 1
    assert p.constants.mu == pytest.approx(ev[1], rel=1e-10)
    rng = np.random.default_rng(0)
    for _ in range(20):
        x = rng.standard_normal(4) * 5
        assert p.grad(x) @ p.grad(x) >= 2 * p.constants.mu * p.gap(x) * (1 - 1e-9)


def test_logistic_global_bounds_hold_far_away():
    p = build_problem({"name": "logreg_nonconvex", "samples_per_worker": 10, "d": 4, "split": "label_skew",
                       "skew": 1.0}, np.random.default_rng(0), n=4, f=1)
    ex = p.constants.extra
    rng = np.random.default_rng(1)
    for s in (0.1, 1.0, 10.0, 100.0):
        x = rng.standard_normal(4) * s
        assert p.sigma2_at(x) <= ex["sigma2_bound"] * (1 + 1e-12)
        assert p.zeta2_at(x) <= ex["zeta2_bound"] * (1 + 1e-12)
    assert 0.0 == p.constants.f_star <= ex["f_upper"] <= p.loss(p.x0())


def test_finite_sum_bad_inputs_name_the_field():
    A, y, c = data(1, [3, 3], 2)
    with pytest.raises(ConfigError, match="non-finite"):
        LogregNonconvex.from_arrays(np.where(A > 0, np.nan, A), y, c)
    with pytest.raises(ConfigError, match="worker 1 has no samples"):
        LogregNonconvex.from_arrays(A, y, np.array([6, 0]))
    with pytest.raises(ConfigError, match="counts sum"):
        LogregNonconvex.from_arrays(A, y, np.array([3, 2]))
    with pytest.raises(ConfigError, match="y has shape"):
        LogregNonconvex.from_arrays(A, y[:-1], c)
    with pytest.raises(ConfigError, match="labels"):
        LogregL2.from_arrays(A, y * 2, c)
    with pytest.raises(ConfigError, match="lam"):
        LogregL2.from_arrays(A, y, c, lam=0.0)
    with pytest.raises(ConfigError, match=r"\bf\b"):
        LeastSquares.from_arrays(A, y, c, f=2)
    p = LeastSquares.from_arrays(A, y * 3.5, c)  # real targets are fine for least squares
    with pytest.raises(ConfigError, match=r"samples\[1\].*worker 1"):
        p.stoch_grads(np.zeros(2), np.array([[0], [3]]))
    with pytest.raises(ConfigError, match="integer"):
        p.stoch_grads(np.zeros(2), np.zeros((2, 1)))
    rng = np.random.default_rng(0)
    with pytest.raises(ConfigError, match="path is required"):
        build_problem({"name": "logreg_l2", "data": "libsvm"}, rng, n=2)
    with pytest.raises(ConfigError, match="only to data = 'synthetic'"):
        build_problem({"name": "logreg_l2", "data": "breast_cancer", "d": 3}, rng, n=2)
    with pytest.raises(ConfigError, match="data"):
        build_problem({"name": "logreg_l2", "data": "mnist"}, rng, n=2)
