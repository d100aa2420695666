"""byzref.gaussian: bit-exact against the plain-Python reference, published test vectors, distribution."""

import math

import numpy as np
import pytest
from reference import gaussian as ref
from scipy import stats

from byzref.errors import ConfigError
from byzref.gaussian import (
    ZIGGURAT_R,
    ZIGGURAT_V,
    _next,
    draw_seeds,
    normal_row,
    normal_rows,
    ziggurat_tables,
)
from byzref.rng import stream


def test_splitmix64_reference_matches_published_vector():
    # SplitMix64 seeded with 1234567 (the test vector distributed with Vigna's splitmix64.c ports)
    assert ref.splitmix64_outputs(1234567, 5) == [6457827717110365317, 3203168211198807973,
                                                  9817491932198370423, 4593380528125082431,
                                                  16408922859458223821]


def test_xoshiro_matches_published_vector():
    # xoshiro256++ from the state (0, 0, 0, 1): 0x800000, 0x800011, 0x2200000800011, ...
    want = [0x0000000000800000, 0x0000000000800011, 0x0002200000800011, 0x0002200044000020,
            0x00022000448008A1, 0x01102100802208A0, 0x0114002284200880, 0x0402896644A64095]
    g = ref.Xoshiro256pp([0, 0, 0, 1])
    assert [g.next() for _ in range(8)] == want
    s = tuple(np.uint64(v) for v in (0, 0, 0, 1))
    got = []
    for _ in range(8):
        out, *s = _next(*s)
        got.append(int(out))
    assert got == want


def test_tables_close_and_have_equal_areas():
    X, F, K, W = ziggurat_tables()
    assert X[1] == ZIGGURAT_R and X[256] == 0.0
    # every layer i ≥ 1 is [0, X[i]] × [F[i], F[i+1]] of area v; the top one closes at f(0) = 1
    areas = X[1:256] * (F[2:257] - F[1:256])
    np.testing.assert_allclose(areas, ZIGGURAT_V, rtol=1e-10)
    assert ZIGGURAT_V / X[255] + F[255] == pytest.approx(1.0, abs=1e-13)
    # the base layer: rectangle r·f(r) plus the tail ∫_r^∞ e^{−x²/2} = v
    tail = math.sqrt(math.pi / 2) * math.erfc(ZIGGURAT_R / math.sqrt(2))
    assert X[0] * F[1] == pytest.approx(ZIGGURAT_R * F[1] + tail, rel=1e-14)
    assert ZIGGURAT_V == pytest.approx(4.92867323399e-3, rel=1e-11)  # Marsaglia & Tsang (2000)
    Xr, Fr, Kr = ref.tables()
    np.testing.assert_array_equal(X, Xr)
    np.testing.assert_array_equal(F, Fr)
    np.testing.assert_array_equal(W, X[:256] * 2.0**-53)
    np.testing.assert_array_equal(K, np.array(Kr, dtype=np.uint64))


@pytest.mark.parametrize("seed", [0, 1, 2**63 + 12345, 2**64 - 1])
def test_rows_match_reference_bit_for_bit(seed):
    got = normal_rows(np.array([seed], dtype=np.uint64), 3, 400)[0]
    for r in range(3):
        np.testing.assert_array_equal(got[r], ref.normal_row(seed, r, 400))


def test_reference_covers_tail_and_wedges():
    # enough draws that the tail (|z| > r, p ≈ 2.6e-4) and the wedge rejections (≈ 1.2%) both happen
    seed = 99
    z = normal_rows(np.array([seed], dtype=np.uint64), 1, 20000)[0, 0]
    assert (np.abs(z) > ZIGGURAT_R).any()
    np.testing.assert_array_equal(z, ref.normal_row(seed, 0, 20000))


def test_normal_row_kernel_equals_block_fill():
    seeds = np.array([5, 6], dtype=np.uint64)
    block = normal_rows(seeds, 4, 50)
    row = np.empty(50)
    normal_row(seeds[1], 3, row)
    np.testing.assert_array_equal(row, block[1, 3])
    buf = np.full(2 * 4 * 50, np.nan)
    np.testing.assert_array_equal(normal_rows(seeds, 4, 50, out=buf), block)
    with pytest.raises(ConfigError, match="out must be"):
        normal_rows(seeds, 4, 50, out=np.empty(7))


def test_seeds_are_raw_stream_words_and_blocks_equal_singles():
    a = draw_seeds(stream(3, "samples"), 6)
    rng = stream(3, "samples")
    b = np.concatenate([draw_seeds(rng) for _ in range(6)])
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, stream(3, "samples").bit_generator.random_raw(6))
    with pytest.raises(ConfigError, match="count"):
        draw_seeds(stream(3, "samples"), 0)


def test_distribution_is_standard_normal():
    # 8·10⁶ values: enough that a 1% error in the fast-acceptance table K or a 3% error in the
    # wedge heights F fails the variance bound (both checked by mutation when this was written)
    z = normal_rows(np.arange(160, dtype=np.uint64), 10, 5000).ravel()
    assert stats.kstest(z, "norm").pvalue > 1e-3
    se = 1 / math.sqrt(z.size)
    assert abs(z.mean()) < 5 * se
    assert abs(z.var() - 1) < 5 * math.sqrt(2) * se
    assert abs(stats.skew(z)) < 5 * math.sqrt(6) * se
    assert abs(stats.kurtosis(z)) < 5 * math.sqrt(24) * se
    # the tail beyond r and the region near each layer edge (where the wedge test decides)
    p_tail = 2 * stats.norm.sf(ZIGGURAT_R)
    k = int((np.abs(z) > ZIGGURAT_R).sum())
    assert abs(k - z.size * p_tail) < 5 * math.sqrt(z.size * p_tail)
    # bins at every layer edge and halfway between: the mass between consecutive edges is what the
    # layer tables decide, and the halves split each wedge
    e = np.sort(ziggurat_tables()[0][1:256])
    e = np.sort(np.concatenate([e, (e[1:] + e[:-1]) / 2]))
    edges = np.concatenate([[-np.inf], -e[::-1], [0.0], e, [np.inf]])
    counts = np.histogram(z, edges)[0]
    expect = z.size * np.diff(stats.norm.cdf(edges))
    assert stats.chisquare(counts, expect).pvalue > 1e-3


def test_rows_and_seeds_are_independent():
    # neighbouring rows of one draw and the same row of neighbouring seeds are uncorrelated
    z = normal_rows(np.arange(200, dtype=np.uint64), 2, 1000)
    r_rows = np.corrcoef(z[:, 0].ravel(), z[:, 1].ravel())[0, 1]
    r_seeds = np.corrcoef(z[:-1, 0].ravel(), z[1:, 0].ravel())[0, 1]
    bound = 5 / math.sqrt(z[:, 0].size)
    assert abs(r_rows) < bound and abs(r_seeds) < bound
