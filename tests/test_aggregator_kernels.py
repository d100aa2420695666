"""Numba kernels of the aggregators against the plain NumPy references in tests/reference."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from reference import aggregators as ref

from byzref.aggregators import AGGREGATORS, PRE_AGGREGATORS
from byzref.aggregators._pairwise import pairwise_sq_dists
from byzref.aggregators.cwtm import sorting_network, trimmed_mean

KERNEL_EXAMPLES = settings(max_examples=40)


def _matrix(seed, n, d, n_bad=0):
    """Tie-free Gaussian rows; the first n_bad rows get some ±inf/NaN entries."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * 10.0 ** rng.uniform(-2, 2)
    for i in range(n_bad):
        hit = rng.random(d) < 0.5
        hit[rng.integers(d)] = True
        X[i, hit] = rng.choice([np.inf, -np.inf, np.nan], int(hit.sum()))
    return np.ascontiguousarray(X[rng.permutation(n)])


def _atol(X, rel=1e-13):
    """Absolute tolerance for sums of entries of X: rounding is relative to the summands, not the sum."""
    finite = X[np.isfinite(X)]
    return rel * (np.abs(finite).max() if finite.size else 1.0)


shapes = st.tuples(st.integers(0, 2**32 - 1), st.integers(1, 13), st.integers(1, 7))


@pytest.mark.parametrize("n", range(1, 15))
def test_sorting_network_sorts_every_zero_one_input(n):
    # 0-1 principle (Knuth 5.3.4): a comparator network sorting all 2^n binary inputs sorts everything.
    A = (np.arange(2**n)[:, None] >> np.arange(n)) & 1
    for i, j in sorting_network(n):
        A[:, i], A[:, j] = np.minimum(A[:, i], A[:, j]), np.maximum(A[:, i], A[:, j])
    assert (np.diff(A, axis=1) >= 0).all()


@pytest.mark.parametrize("m", range(41))
def test_sort_prefix_gives_the_values_of_np_sort(m):
    # m ≤ 32 without NaN: a comparator network; with NaN: insertion sort; above 32: Numba's sort.
    from byzref.aggregators._pairwise import sort_prefix

    rng = np.random.default_rng(m)
    for kind in ("distinct", "ties", "inf", "nan"):
        a = rng.standard_normal(m + 3)
        if kind == "ties":
            a = rng.integers(0, 3, m + 3).astype(float)
        elif kind == "inf" and m:
            a[rng.integers(m)] = np.inf
        elif kind == "nan" and m:
            a[rng.integers(m, size=2)] = np.nan
        want = np.concatenate([np.sort(a[:m]), a[m:]])
        sort_prefix(a, m)
        assert np.array_equal(a, want, equal_nan=True)


@pytest.mark.parametrize("m", range(33))
def test_sort_columns_leaves_each_column_as_sort_prefix_leaves_it(m):
    # every column must end byte for byte as sort_prefix leaves it alone (same network): ties, +inf
    # and +0.0 / −0.0 (which the network may order either way, but the same way in both)
    from byzref.aggregators._pairwise import sort_columns, sort_prefix

    rng = np.random.default_rng(100 + m)
    for kind in ("distinct", "ties", "inf", "zeros"):
        K = rng.standard_normal((m + 2, 7))
        if kind == "ties":
            K = rng.integers(0, 3, (m + 2, 7)).astype(float)
        elif kind == "inf":
            K[rng.random(K.shape) < 0.2] = np.inf
        elif kind == "zeros":
            K = np.where(rng.random(K.shape) < 0.5, 0.0, -0.0) * rng.integers(0, 2, K.shape)
        want = K.copy()
        for i in range(K.shape[1]):
            col = np.ascontiguousarray(want[:, i])
            sort_prefix(col, m)
            want[:, i] = col
        sort_columns(K, m)
        assert K.tobytes() == want.tobytes()


@pytest.mark.parametrize("n", [15, 20, 33, 64, 100])
def test_sorting_network_sorts_random_keys(n):
    rng = np.random.default_rng(n)
    A = rng.standard_normal((200, n))
    want = np.sort(A, axis=1)
    for i, j in sorting_network(n):
        A[:, i], A[:, j] = np.minimum(A[:, i], A[:, j]), np.maximum(A[:, i], A[:, j])
    assert np.array_equal(A, want)


@KERNEL_EXAMPLES
@given(shapes, st.data())
def test_trimmed_mean_and_median_match_reference(shape, data):
    seed, n, d = shape
    b = data.draw(st.integers(0, (n - 1) // 2))
    X = _matrix(seed, n, d, n_bad=data.draw(st.integers(0, b)))
    np.testing.assert_allclose(trimmed_mean(X, b), ref.cwtm(X, b), rtol=1e-12, atol=_atol(X))
    cwmed = AGGREGATORS.build("cwmed").evaluate(X)
    np.testing.assert_allclose(cwmed, ref.cwmed(X), rtol=1e-12, atol=_atol(X))


def _hard_columns(rng, n, d):
    """Columns with NaN, ±inf (sometimes more than any trim removes), signed zeros and ties."""
    X = rng.standard_normal((n, d))
    X[rng.random((n, d)) < 0.08] = np.nan
    X[rng.random((n, d)) < 0.08] = np.inf
    X[rng.random((n, d)) < 0.08] = -np.inf
    X[:, 0] = 0.0
    X[0, 0] = -0.0
    X[:, -1] = np.round(X[:, -1])
    return X


@pytest.mark.parametrize("n, bs", [(2, [0]), (3, [0, 1]), (5, [0, 1, 2]), (8, [0, 3]), (20, [4, 9])])
def test_the_unrolled_network_gives_the_trimmed_mean_bit_for_bit(n, bs):
    """cwtm/cwmed's compiled kernel runs an unrolled copy of the sorting network once ``prepare`` ran;
    its output must be the general kernel's byte for byte (NaN as +inf, signed zeros, ties)."""
    from byzref.aggregators.cwtm import trim_kernel, unrolled_trim

    rng = np.random.default_rng(n)
    for b in bs:
        for d in (1, 7, 600):
            X = _hard_columns(rng, n, d)
            k = trim_kernel(n, d, b)
            assert k.params[3][0] == 0  # nothing compiled before prepare
            k.prepare()
            assert k.params[3][0] == unrolled_trim(n, b) != 0
            out = np.full(d, 7.0)
            k.fn(k.params, X, None, True, out)
            assert out.tobytes() == trimmed_mean(X, b).tobytes()
            with np.errstate(invalid="ignore"):  # inf − inf in a column with infinities on both sides
                want = ref.cwtm(X, b)  # an independent sort
            np.testing.assert_allclose(out, want, rtol=1e-12, atol=1e-14)


def test_the_unrolled_network_is_only_for_small_row_counts_and_skips_other_layouts():
    from byzref.aggregators.cwtm import UNROLL_MAX, trim_kernel, unrolled_trim

    assert unrolled_trim(1, 0) == unrolled_trim(UNROLL_MAX + 1, 3) == unrolled_trim(4, 2) == 0
    k = trim_kernel(5, 6, 1)
    k.prepare()
    out = np.empty(6)
    Xf = np.asfortranarray(_hard_columns(np.random.default_rng(4), 5, 6))  # not C-contiguous
    k.fn(k.params, Xf, None, True, out)
    assert out.tobytes() == trimmed_mean(np.ascontiguousarray(Xf), 1).tobytes()


def test_the_unrolled_network_is_what_runs_once_prepared():
    """The kernel really takes the unrolled path for C-contiguous inputs (and only then), and the
    function at the address gives the general kernel's bytes when called on its own."""
    import ctypes

    from numba import njit

    from byzref.aggregators.cwtm import _call_unrolled, trim_kernel

    @njit
    def unrolled(addr, X, out):
        return _call_unrolled(addr, X, out)

    n, d, b = 8, 37, 3
    X = _hard_columns(np.random.default_rng(8), n, d)
    k = trim_kernel(n, d, b)
    k.prepare()
    addr = int(k.params[3][0])
    out = np.full(d, 7.0)
    assert unrolled(addr, X, out) and out.tobytes() == trimmed_mean(X, b).tobytes()
    assert not unrolled(0, X, out)
    assert not unrolled(addr, np.asfortranarray(X), out)
    fn = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_ssize_t, ctypes.c_void_p)(addr)
    direct = np.full(d, 7.0)
    fn(X.ctypes.data, d, direct.ctypes.data)
    assert direct.tobytes() == trimmed_mean(X, b).tobytes()


def test_a_short_run_does_not_compile_a_new_unrolled_network(tmp_path, monkeypatch):
    """unrolled_trim(compile_new=False) gives 0 for an (n, b) never compiled on this machine (the
    general kernel runs), and the address once it was compiled."""
    import byzref.aggregators.cwtm as cwtm
    import byzref.compiled as compiled

    monkeypatch.setenv("BYZREF_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(cwtm, "_UNROLLED", {})
    monkeypatch.setattr(compiled, "_MODULES", {})
    assert cwtm.unrolled_trim(6, 1, compile_new=False) == 0
    assert not list(tmp_path.glob("byzref_trim_6_1_*"))
    addr = cwtm.unrolled_trim(6, 1)
    assert addr != 0 and list(tmp_path.glob("byzref_trim_6_1_*.ready"))
    monkeypatch.setattr(cwtm, "_UNROLLED", {})  # a new process: the marker says it is compiled
    monkeypatch.setattr(compiled, "_MODULES", {})
    assert cwtm.unrolled_trim(6, 1, compile_new=False) != 0


@KERNEL_EXAMPLES
@given(shapes, st.data())
def test_meamed_matches_reference(shape, data):
    seed, n, d = shape
    f = data.draw(st.integers(0, (n - 1) // 2))
    X = _matrix(seed, n, d, n_bad=data.draw(st.integers(0, f)))
    got = AGGREGATORS.build({"name": "meamed", "f": f}).evaluate(X)
    np.testing.assert_allclose(got, ref.meamed(X, f), rtol=1e-12, atol=_atol(X))


def test_column_kernels_across_block_boundaries():
    X = _matrix(1, 9, 1300, n_bad=2)  # three 512-column blocks, the last one partial
    np.testing.assert_allclose(trimmed_mean(X, 3), ref.cwtm(X, 3), rtol=1e-12, atol=_atol(X))
    got = AGGREGATORS.build({"name": "meamed", "f": 2}).evaluate(X)
    np.testing.assert_allclose(got, ref.meamed(X, 2), rtol=1e-12, atol=_atol(X))


@KERNEL_EXAMPLES
@given(shapes, st.integers(0, 3))
def test_pairwise_sq_dists_match_reference(shape, n_bad):
    seed, n, d = shape
    X = _matrix(seed, n, d, n_bad=min(n_bad, n))
    D, finite = pairwise_sq_dists(X)
    D_ref, finite_ref = ref.sq_dists(X)
    assert np.array_equal(finite, finite_ref)
    np.testing.assert_allclose(D, D_ref, rtol=1e-12, atol=0)


def test_pairwise_sq_dists_across_block_boundaries():
    X = _matrix(2, 6, 2100, n_bad=1)
    D, finite = pairwise_sq_dists(X)
    D_ref, finite_ref = ref.sq_dists(X)
    assert np.array_equal(finite, finite_ref)
    np.testing.assert_allclose(D, D_ref, rtol=1e-12)


@KERNEL_EXAMPLES
@given(shapes, st.data())
def test_krum_multikrum_nnm_match_reference(shape, data):
    seed, n, d = shape
    f = data.draw(st.integers(0, (n - 1) // 2))
    X = _matrix(seed, n, d, n_bad=data.draw(st.integers(0, f)))
    if n >= 3:  # krum needs n ≥ 2f + 3; with m_nb and m given, f enters only through the checks
        f_k = min(f, (n - 3) // 2)
        m_nb = data.draw(st.integers(1, n - f - 1))
        m = data.draw(st.integers(1, n - f))
        krum = AGGREGATORS.build({"name": "krum", "m_nb": m_nb, "f": f_k})
        assert np.array_equal(krum.evaluate(X), ref.krum(X, f, m_nb))
        mk = AGGREGATORS.build({"name": "multikrum", "m": m, "m_nb": m_nb, "f": f_k})
        np.testing.assert_allclose(mk.evaluate(X), ref.multikrum(X, f, m_nb, m), rtol=1e-12, atol=_atol(X))
    got = PRE_AGGREGATORS.build({"name": "nnm", "f": f})(X)
    np.testing.assert_allclose(got, ref.nnm(X, f), rtol=1e-12, atol=_atol(X))


@pytest.mark.parametrize(("n", "f"), [(3, 0), (6, 1), (13, 4), (20, 4), (20, 8), (25, 1), (64, 20), (70, 20)])
def test_nnm_output_is_the_in_order_sum_of_the_neighbours_bit_for_bit(n, f):
    """NNM adds up to eight neighbour rows per pass over a column block, and for n ≤ 64 a row with the
    finite neighbours of an earlier row copies its output; each output entry must still be the plain
    sum of its own finite neighbours in increasing index order (a Python loop here), / k."""
    from byzref.aggregators.nnm import _nnm_into, _nnm_scratch

    rng = np.random.default_rng(n + f)
    k = n - f
    shared = seen_before = 0
    for d in (1, 30, 1500):  # 1500: two column blocks
        X = rng.standard_normal((n, d)) * 10.0 ** rng.integers(-3, 4, size=(n, 1))
        if f >= 2:  # identical rows (as ALIE sends) at the end and in the middle: shared neighbour sets
            X[n - f:] = X[n - f]
            X[n // 3] = X[n // 3 + 1]
        if f:
            X[rng.integers(n), 0] = np.nan  # a non-finite row: never summed, copies the centre's output
        p = _nnm_scratch(n, k)
        out = np.empty((n, d))
        _nnm_into(X, *p, out)
        finite, near = p[2], p[5]
        centre, sets = None, []
        for i in range(n):
            src = i
            if not finite[i]:
                centre = centre if centre is not None else int(np.argmin(np.where(finite == 1, p[4], np.inf)))
                src = centre
            assert list(near[src]) == sorted(near[src])
            want = np.zeros(d)
            for j in near[src]:
                if finite[j]:
                    for c in range(d):
                        want[c] += X[j, c]
            assert out[i].tobytes() == (want / k).tobytes()
            own = {int(j) for j in near[src] if finite[j]}
            seen_before += own in sets
            sets.append(own)
            shared += int(p[10][i] != i)
    # the copy path ran exactly for the rows whose neighbours an earlier row has (none beyond 64 rows)
    assert shared == (seen_before if n <= 64 else 0) and (n > 64 or f < 2 or shared > 0)


@pytest.mark.parametrize(("n", "f"), [(2, 0), (5, 2), (13, 4), (20, 8), (32, 5), (33, 5), (40, 10)])
def test_nnm_radii_and_neighbours_follow_the_definition_bit_for_bit(n, f):
    """Up to 32 finite rows NNM sorts all rows' distances together (sort_columns), beyond per row: the
    radius (the k smallest distances added in ascending order), the k-th distance and the neighbours
    (the k nearest, ties → lowest index) must be the definition's, written out here with np.sort."""
    from byzref.aggregators._pairwise import pairwise_sq_dists
    from byzref.aggregators.nnm import _nnm_into, _nnm_scratch

    rng = np.random.default_rng(n + f)
    k = n - f
    for trial in range(4):
        X = rng.standard_normal((n, 9))
        if trial >= 1:  # identical rows (as ALIE sends): tied distances, exact zeros
            X[n - f:] = X[0] if trial == 1 else rng.integers(0, 2, (f, 9))
        if trial == 3:
            X = rng.integers(0, 2, (n, 9)).astype(float)  # many ties at every rank
        p = _nnm_scratch(n, k)
        _nnm_into(X, *p, np.empty((n, 9)))
        D = pairwise_sq_dists(X)[0]
        for i in range(n):
            srt = np.sort(D[i])
            s = 0.0
            for r in range(k):
                s += float(srt[r])
            assert p[4][i].tobytes() == np.float64(s).tobytes()
            assert p[8][i] == srt[k - 1]
            order = sorted(range(n), key=lambda j: (D[i, j], j))
            assert list(p[5][i]) == sorted(order[:k])


@pytest.mark.parametrize("n", [3, 5, 20, 32, 33])
def test_krum_scores_add_each_rows_smallest_distances_in_ascending_order_bit_for_bit(n):
    """Up to 32 rows, distance matrices (zero diagonal, no negative entry) are scored with all rows
    sorted together, their diagonal 0 skipped; other matrices row by row without the diagonal. Both
    must add the m_nb smallest off-diagonal entries in ascending order from 0.0, written out here."""
    from byzref.aggregators._pairwise import pairwise_sq_dists
    from byzref.aggregators.krum import krum_scores

    rng = np.random.default_rng(n)
    for trial in range(5):
        X = rng.standard_normal((n, 7)) * 10.0 ** rng.integers(-3, 4, size=(n, 1))
        if trial == 1:
            X[n // 2:] = X[0]  # identical rows: tied distances and exact zeros off the diagonal
        D = pairwise_sq_dists(X)[0]
        if trial == 2:
            D = D + 1.0  # a non-zero diagonal (krum_scores takes any matrix)
        elif trial == 3:
            D[0, n - 1] = -1.0  # a negative entry: 0 is not the smallest
        elif trial == 4:
            D = np.abs(rng.standard_normal((n, n)))  # not symmetric
            np.fill_diagonal(D, 0.0)
        for m_nb in sorted({1, n // 2, n - 1}):
            got = krum_scores(D, m_nb)
            for i in range(n):
                s = 0.0
                for v in np.sort(np.delete(D[i], i))[:m_nb]:
                    s += float(v)
                assert got[i].tobytes() == np.float64(s).tobytes(), (trial, m_nb, i)


@KERNEL_EXAMPLES
@given(shapes, st.data())
def test_gm_matches_reference(shape, data):
    seed, n, d = shape
    f = data.draw(st.integers(0, (n - 1) // 2))
    X = _matrix(seed, n, d, n_bad=data.draw(st.integers(0, f)))
    start = data.draw(st.sampled_from(["mean", "zero", "median"]))
    nu = data.draw(st.sampled_from([None, 1e-3, 0.1]))
    max_iter = data.draw(st.integers(0, 30))
    tol = data.draw(st.sampled_from([0.0, 1e-6]))
    gm = AGGREGATORS.build({"name": "gm", "start": start, "nu": nu, "max_iter": max_iter, "tol": tol})
    z, it, conv = gm.solve(X)
    z_ref, it_ref, conv_ref = ref.gm(X, start, nu, max_iter, tol)
    if tol > 0:  # with tol = 0 "converged" means an exact fixed point: decided by rounding
        assert (it, conv) == (it_ref, conv_ref)
    np.testing.assert_allclose(z, z_ref, rtol=1e-9, atol=_atol(X, 1e-10))


@KERNEL_EXAMPLES
@given(shapes, st.data())
def test_gm_matches_reference_beyond_its_breakdown_point(shape, data):
    # At least half the rows non-finite: the automatic ν takes its median and scale from the finite rows
    # (this used to raise ZeroDivisionError or build ν from +inf).
    seed, n, d = shape
    assume(n >= 2)
    X = _matrix(seed, n, d, n_bad=data.draw(st.integers(n // 2, n - 1)))
    start = data.draw(st.sampled_from(["mean", "zero", "median"]))
    tol = data.draw(st.sampled_from([1e-6, 1e-10]))
    gm = AGGREGATORS.build({"name": "gm", "start": start, "tol": tol, "max_iter": 50})
    z, it, conv = gm.solve(X)
    z_ref, it_ref, conv_ref = ref.gm(X, start, None, 50, tol)
    assert (it, conv) == (it_ref, conv_ref)
    assert np.isfinite(z).all()
    np.testing.assert_allclose(z, z_ref, rtol=1e-9, atol=_atol(X, 1e-10))


@pytest.mark.parametrize("start", ["mean", "zero", "median"])
def test_gm_with_one_finite_row_returns_it(start):
    X = np.array([[1.0, 2.0], [np.nan, 0.0], [np.inf, 0.0]])
    z, updates, converged = AGGREGATORS.build({"name": "gm", "start": start}).solve(X)
    assert z.tolist() == [1.0, 2.0] and (updates, converged) == (0, True)


@pytest.mark.parametrize("start", ["mean", "zero", "median"])
def test_gm_median_of_huge_rows_does_not_overflow(start):
    # n even: the midpoint of the two middle values overflows as (a + b)/2; any point of
    # [1.6e308, 1.7e308] is a geometric median of these four points on a line. The stopping test
    # (tol = 1e-10 relative to ‖z‖) leaves a returned point within 1e-9 relative of that segment.
    X = np.array([[1.5e308], [1.6e308], [1.7e308], [1.8e308]])
    z, _, converged = AGGREGATORS.build({"name": "gm", "start": start}).solve(X)
    assert converged and 1.6e308 * (1 - 1e-9) <= z[0] <= 1.7e308


@pytest.mark.parametrize("n", [1, 3, 4, 5, 8, 9, 20])
def test_gm_interleaved_distances_are_the_one_row_distances_bit_for_bit(n):
    """gm's Weiszfeld step measures four rows per pass; each row's sum must still be the plain
    in-order sum (a Python loop here), overflowing rows rescaled as the one-row kernel does, and
    rows with a non-finite entry +inf."""
    import math

    from byzref.aggregators.gm import _dist, _dist2, _row_dists, _row_dists_t

    rng = np.random.default_rng(n)
    for d in (1, 7, 30, 101):
        X = rng.standard_normal((n, d)) * 10.0 ** rng.integers(-3, 4, size=(n, 1))
        z = rng.standard_normal(d)
        ok = np.ones(n, dtype=np.bool_)
        if n >= 3:
            X[1] *= 1e200  # its plain sum overflows: the rescaled sum
            X[2, 0], ok[2] = np.nan, False
        r = np.empty(n)
        _row_dists(X, ok, z, r)
        rt = np.empty(n)
        _row_dists_t(np.ascontiguousarray(X.T), X, ok, z, rt)
        assert rt.tobytes() == r.tobytes()  # the transposed pass: the same sums
        for i in range(n):
            if not ok[i]:
                assert r[i] == np.inf
                continue
            assert r[i] == _dist(X[i], z)
            if i != 1 or n < 3:
                s = 0.0
                for k in range(d):
                    s += (X[i, k] - z[k]) * (X[i, k] - z[k])
                assert r[i] == math.sqrt(s)
        j = 1 if n >= 3 else n - 1  # an overflowing row when there is one
        assert _dist2(X[0], z, X[j], z) == (_dist(X[0], z), _dist(X[j], z))


@pytest.mark.parametrize("n", [1, 3, 4, 5, 8, 9, 20])
def test_gm_weighted_sum_adds_the_rows_in_index_order(n):
    from byzref.aggregators.gm import _weighted_sum

    rng = np.random.default_rng(n)
    for d in (1, 7, 30):
        X = rng.standard_normal((n, d)) * 10.0 ** rng.integers(-3, 4, size=(n, 1))
        w = rng.random(n)
        ok = rng.random(n) < 0.8
        X[~ok, 0] = np.nan  # a dropped row must not reach the sum
        want = np.zeros(d)
        for i in range(n):
            if ok[i]:
                for k in range(d):
                    want[k] += w[i] * X[i, k]
        got = np.empty(d)
        _weighted_sum(X, ok, w, got)
        assert got.tobytes() == want.tobytes()


@KERNEL_EXAMPLES
@given(shapes, st.data())
def test_gm_transposed_and_row_distances_give_the_same_bytes(shape, data):
    # XT of shape (d, n) makes the solver measure distances on Xᵀ, (0, n) on X (large n·d).
    from byzref.aggregators.gm import _gm_solve

    seed, n, d = shape
    X = _matrix(seed, n, d, n_bad=data.draw(st.integers(0, n)))
    with np.errstate(over="ignore", invalid="ignore"):
        X[: data.draw(st.integers(0, n))] *= data.draw(st.sampled_from([1.0, 1e200, 1e307]))
    gm = AGGREGATORS.build({"name": "gm", "start": data.draw(st.sampled_from(["mean", "zero", "median"])),
                            "max_iter": data.draw(st.integers(0, 60))})
    p = gm._scratch(n, d)
    assert p[-1].shape == (d, n)
    z1, z2 = np.empty(d), np.empty(d)
    r1 = _gm_solve(X, *p[:7], z1, *p[7:])
    r2 = _gm_solve(X, *p[:7], z2, *p[7:-1], np.empty((0, n)))
    assert r1 == r2 and z1.tobytes() == z2.tobytes()


@KERNEL_EXAMPLES
@given(shapes, st.data())
def test_cclip_matches_reference(shape, data):
    seed, n, d = shape
    X = _matrix(seed, n, d, n_bad=data.draw(st.integers(0, n - 1)))
    tau = data.draw(st.sampled_from([1e-3, 0.5, 10.0]))
    L = data.draw(st.integers(1, 4))
    v0 = np.random.default_rng(seed + 1).standard_normal(d)
    got = AGGREGATORS.build({"name": "cclip", "tau": tau, "L": L, "center": v0}).evaluate(X)
    np.testing.assert_allclose(got, ref.cclip(X, tau, L, v0), rtol=1e-11, atol=_atol(X, 1e-12) + 1e-12 * tau)


def test_norms_do_not_overflow_for_huge_finite_rows():
    # A row at 1e200 has ‖x − v‖² = inf in float64; the kernels rescale, so the clipped step and the
    # Weiszfeld weight of that row match the scaled-norm reference.
    rng = np.random.default_rng(3)
    X = np.vstack([rng.standard_normal((4, 3)), 1e200 * np.ones((1, 3))])
    got = AGGREGATORS.build({"name": "cclip", "tau": 1.0, "L": 2, "center": np.zeros(3)}).evaluate(X)
    np.testing.assert_allclose(got, ref.cclip(X, 1.0, 2, np.zeros(3)), rtol=1e-12)
    assert abs(got[0] - ref.cclip(X[:4], 1.0, 2, np.zeros(3))[0]) > 0.01  # the huge row does count
    z, _, _ = AGGREGATORS.build({"name": "gm", "tol": 0.0, "max_iter": 5, "f": 1}).solve(X)
    np.testing.assert_allclose(z, ref.gm(X, "mean", None, 5, 0.0)[0], rtol=1e-9)


@KERNEL_EXAMPLES
@given(shapes, st.integers(1, 5))
def test_bucketing_matches_reference(shape, s):
    seed, n, d = shape
    X = _matrix(seed, n, d)
    perm = np.random.default_rng(seed).permutation(n)
    got = PRE_AGGREGATORS.build({"name": "bucketing", "s": s}).apply_permutation(X, perm)
    np.testing.assert_allclose(got, ref.bucketing(X, perm, s), rtol=1e-12, atol=_atol(X))
