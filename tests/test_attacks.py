"""Byzantine attacks: conformance over the registry, golden values, ALIE's z, adaptive search."""

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from byzref.attacks import ATTACKS, AttackContext
from byzref.attacks._adaptive import line_search
from byzref.attacks.alie import baruch_z
from byzref.errors import ConfigError

X = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]])
CONTEXT_FIELDS = ("aggregate", "own_rows", "flipped_rows")


def mean_agg(Z):
    return Z.mean(axis=0)


def full_ctx(n, f, d, seed=1):
    """A context with every callable filled in by plain lambdas."""
    rng = np.random.default_rng(seed)
    own = rng.normal(size=(f, d))
    flipped = rng.normal(size=(f, d))
    return AttackContext(n=n, f=f, aggregate=mean_agg, own_rows=lambda: own, flipped_rows=lambda: flipped)


def build(name, **params):
    return ATTACKS.build({"name": name, **params})


def one(name, H, n, f, **params):
    """Run attack ``name`` on H with a context missing nothing; return the first Byzantine row."""
    ctx = AttackContext(n=n, f=f, aggregate=mean_agg)
    return build(name, **params)(H, ctx, np.random.default_rng(0))[0]


# ---------------------------------------------------------------- conformance over the registry


def test_registry_holds_the_spec_attacks():
    expected = {"none", "bit_flip", "label_flip", "sign_flip", "ipm", "alie", "gaussian", "mimic",
                "nonfinite", "adaptive_ipm", "adaptive_alie"}
    assert expected <= set(ATTACKS.names())


@pytest.mark.parametrize("name", ATTACKS.names())
@pytest.mark.parametrize(("n", "f", "d"), [(7, 2, 4), (5, 1, 1), (9, 4, 6)])
def test_conformance(name, n, f, d):
    cls = ATTACKS.get(name)
    # the docstring states the Byzantine row and names where the attack comes from (a paper or byzref itself)
    assert cls.__doc__ and "Definition" in cls.__doc__, name
    assert re.search(r"\b(19|20)\d\d\b|arXiv:|byzref's own", cls.__doc__), name
    assert set(cls.requires) <= set(CONTEXT_FIELDS)
    attack = build(name, **cls.test_config)
    assert attack.describe()["name"] == name
    H = np.random.default_rng(n * d).normal(size=(n - f, d))
    H0 = H.copy()
    ctx = full_ctx(n, f, d)
    own0 = ctx.own_rows().copy()
    out = attack(H, ctx, np.random.default_rng(3))
    assert out.shape == (f, d) and out.dtype == np.float64
    np.testing.assert_array_equal(H, H0)  # the good rows are never mutated
    assert H.flags.writeable  # ... and the caller's array keeps its flags
    np.testing.assert_array_equal(ctx.own_rows(), own0)
    assert not np.shares_memory(out, H) and not np.shares_memory(out, ctx.own_rows())
    if name != "nonfinite":
        assert np.isfinite(out).all()
    out[:] = 12345.0  # writing into the result touches nothing of the caller's
    np.testing.assert_array_equal(H, H0)
    np.testing.assert_array_equal(ctx.own_rows(), own0)
    # f = 0: no Byzantine rows
    assert attack(np.zeros((n, d)), full_ctx(n, 0, d), np.random.default_rng(3)).shape == (0, d)


@pytest.mark.parametrize("name", ATTACKS.names())
def test_missing_requirements_give_a_clear_error(name):
    cls = ATTACKS.get(name)
    attack = build(name, **cls.test_config)
    n, f, d = 6, 2, 3
    H = np.random.default_rng(0).normal(size=(n - f, d))
    rng = np.random.default_rng(0)
    for field in cls.requires:
        ctx = full_ctx(n, f, d)
        setattr(ctx, field, None)
        with pytest.raises(ConfigError, match=rf"{name}.*AttackContext\.{field}"):
            attack(H, ctx, rng)
    # nothing beyond the declared requirements is used
    bare = AttackContext(n=n, f=f, **{k: getattr(full_ctx(n, f, d), k) for k in cls.requires})
    assert attack(H, bare, rng).shape == (f, d)
    if cls.random:
        with pytest.raises(ConfigError, match="needs an rng"):
            attack(H, full_ctx(n, f, d), None)
    else:  # deterministic attacks need no generator
        assert attack(H, full_ctx(n, f, d), None).shape == (f, d)


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"name": "ipm", "eps": -1.0}, "eps"),
        ({"name": "ipm", "eps": math.inf}, "eps"),
        ({"name": "gaussian", "sigma": -0.5}, "sigma"),
        ({"name": "gaussian", "mu": math.nan}, "mu"),
        ({"name": "alie", "z": "baruh"}, "z"),
        ({"name": "alie", "z": None}, "z"),
        ({"name": "alie", "sign": 0}, "sign"),
        ({"name": "mimic", "i": -1}, "i"),
        ({"name": "mimic", "i": 1.5}, "i"),
        ({"name": "nonfinite", "kind": "+inf"}, "kind"),
        ({"name": "adaptive_ipm", "evals": 0}, "evals"),
        ({"name": "adaptive_ipm", "delta": 0.0}, "delta"),
        ({"name": "adaptive_alie", "ratio": 1.0}, "ratio"),
        ({"name": "adaptive_alie", "start": math.inf}, "start"),
    ],
)
def test_bad_parameters_name_the_field(config, field):
    with pytest.raises(ConfigError, match=rf"^{field}\b"):
        ATTACKS.build(config)


# ---------------------------------------------------------------- golden values (byzfl's own tests)


def test_golden_values_on_X():
    np.testing.assert_allclose(one("sign_flip", X, 4, 1), [-4, -5, -6], rtol=1e-15)
    np.testing.assert_allclose(one("ipm", X, 4, 1, eps=2.0), [-8, -10, -12], rtol=1e-15)
    # std(ddof=1) of each column of X is 3, so mean + 1.5·3
    np.testing.assert_allclose(one("alie", X, 4, 1, z=1.5, sign=1), [8.5, 9.5, 10.5], rtol=1e-15)
    np.testing.assert_allclose(one("alie", X, 4, 1, z=1.5), [-0.5, 0.5, 1.5], atol=1e-14)
    np.testing.assert_array_equal(one("mimic", X, 4, 1, i=0), [1, 2, 3])
    np.testing.assert_array_equal(one("mimic", X, 4, 1, i=2), [7, 8, 9])
    np.testing.assert_array_equal(one("nonfinite", X, 4, 1), [np.inf] * 3)
    np.testing.assert_array_equal(one("nonfinite", X, 4, 1, kind="-inf"), [-np.inf] * 3)
    assert np.isnan(one("nonfinite", X, 4, 1, kind="nan")).all()
    np.testing.assert_allclose(one("ipm", X, 4, 1), [-0.4, -0.5, -0.6], rtol=1e-15)  # default ε = 0.1


def test_same_vector_in_every_byzantine_row():
    out = build("sign_flip")(X, AttackContext(n=6, f=3))
    np.testing.assert_array_equal(out, np.tile([-4.0, -5.0, -6.0], (3, 1)))


def test_mimic_index_checked_at_call_time():
    with pytest.raises(ConfigError, match=r"mimic i = 3 .*\[0, 2\].*n = 5, f = 2"):
        build("mimic", i=3)(X, AttackContext(n=5, f=2))


def test_protocol_following_attacks_use_the_context_rows():
    own = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]])
    flipped = np.array([[9.0, 8.0, 7.0], [6.0, 5.0, 4.0]])
    ctx = AttackContext(n=5, f=2, own_rows=lambda: own, flipped_rows=lambda: flipped)
    np.testing.assert_array_equal(build("none")(X, ctx), own)
    np.testing.assert_array_equal(build("bit_flip")(X, ctx), -own)
    np.testing.assert_array_equal(build("label_flip")(X, ctx), flipped)


# ---------------------------------------------------------------- ALIE's z (Baruch et al. 2019)


def test_baruch_z_for_20_8_by_hand():
    n, f = 20, 8
    s = n // 2 + 1 - f  # = 3
    assert s == 3
    expected = norm.ppf((n - f - s) / (n - f))  # Φ⁻¹(9/12) = Φ⁻¹(0.75)
    assert baruch_z(n, f) == pytest.approx(expected, abs=1e-12)
    assert baruch_z(n, f) == pytest.approx(0.6745, abs=1e-4)
    assert baruch_z(n, f, "baruch_original") == pytest.approx(norm.ppf((n - s) / n), abs=1e-12)


@pytest.mark.parametrize(("n", "f", "z"), [(20, 5, 0.2533), (25, 5, 0.2533), (20, 9, 0.9085),
                                           (10, 3, 0.1800), (11, 1, 0.0)])
def test_baruch_z_reference_values(n, f, z):
    assert baruch_z(n, f) == pytest.approx(z, abs=1e-4)


@pytest.mark.parametrize(("n", "f", "rule"), [(10, 6, "baruch"), (10, 7, "baruch_original"),
                                              (2, 1, "baruch"), (2, 0, "baruch")])
def test_baruch_z_undefined_names_n_and_f(n, f, rule):
    with pytest.raises(ConfigError, match=rf"n = {n}, f = {f}"):
        baruch_z(n, f, rule)


def test_alie_default_is_mean_minus_baruch_z_std():
    n, f = 20, 8
    H = np.random.default_rng(5).normal(size=(n - f, 7))
    z = norm.ppf(0.75)
    expected = H.mean(axis=0) - z * np.std(H, axis=0, ddof=1)
    np.testing.assert_allclose(one("alie", H, n, f), expected, rtol=1e-12, atol=1e-14)
    expected_plus = H.mean(axis=0) + norm.ppf(17 / 20) * np.std(H, axis=0, ddof=1)
    got = one("alie", H, n, f, z="baruch_original", sign=1)
    np.testing.assert_allclose(got, expected_plus, rtol=1e-12, atol=1e-14)
    with pytest.raises(ConfigError, match="n = 10, f = 6"):
        one("alie", H[:4], 10, 6)


def test_alie_needs_two_good_rows():
    with pytest.raises(ConfigError, match="n - f >= 2"):
        one("alie", X[:1], 3, 2, z=1.0)


# ---------------------------------------------------------------- gaussian


def test_gaussian_rows_are_independent_draws():
    f, d, mu, sigma = 3, 20000, 0.5, 2.0
    attack = build("gaussian", mu=mu, sigma=sigma)
    ctx = AttackContext(n=5, f=f)
    H = np.zeros((2, d))
    out = attack(H, ctx, np.random.default_rng(11))
    assert np.all(np.abs(out.mean(axis=1) - mu) < 5 * sigma / math.sqrt(d))
    assert np.all(np.abs(out.std(axis=1) / sigma - 1) < 5 / math.sqrt(2 * d))
    corr = np.corrcoef(out)
    assert np.all(np.abs(corr[np.triu_indices(f, 1)]) < 5 / math.sqrt(d))
    np.testing.assert_array_equal(out, attack(H, ctx, np.random.default_rng(11)))  # reproducible
    assert not np.array_equal(out, attack(H, ctx, np.random.default_rng(12)))
    const = build("gaussian", mu=-1.5, sigma=0.0)(H[:, :4], ctx, np.random.default_rng(0))
    np.testing.assert_array_equal(const, np.full((f, 4), -1.5))


# ---------------------------------------------------------------- equivariance (properties of the rules)

rows = st.integers(2, 6)
cols = st.integers(1, 4)


@settings(max_examples=40)
@given(m=rows, d=cols, f=st.integers(1, 3), seed=st.integers(0, 2**32 - 1),
       c=st.floats(0.1, 10.0), shift=st.floats(-5.0, 5.0))
def test_scale_and_translation_equivariance(m, d, f, seed, c, shift):
    H = np.random.default_rng(seed).normal(size=(m, d))
    n = m + f
    for name, params in [("sign_flip", {}), ("ipm", {"eps": 0.7}), ("alie", {"z": 1.3}), ("mimic", {"i": 1})]:
        base = one(name, H, n, f, **params)
        np.testing.assert_allclose(one(name, c * H, n, f, **params), c * base, rtol=1e-10, atol=1e-10)
    for name, params in [("alie", {"z": -0.8, "sign": 1}), ("mimic", {"i": 0})]:
        base = one(name, H, n, f, **params)
        np.testing.assert_allclose(one(name, H + shift, n, f, **params), base + shift, rtol=1e-10, atol=1e-10)


# ---------------------------------------------------------------- adaptive attacks: the line search


@pytest.mark.parametrize(("evals", "tau"), [(1, 0.0), (4, 0.0), (5, 5.12), (20, 5.12)])
def test_line_search_hand_trace_contraction(evals, tau):
    # φ(τ) = −(τ−3)²: φ(0) = −9; 10 worse (δ → 8); 8, 6.4 worse; 5.12 better; then only τ > 5.12 tried.
    best, val = line_search(lambda t: -((t - 3.0) ** 2), 0.0, 10.0, 0.8, evals)
    assert best == pytest.approx(tau, abs=1e-12) and val == pytest.approx(-((tau - 3.0) ** 2), abs=1e-12)
    neg, _ = line_search(lambda t: -((t + 3.0) ** 2), 0.0, -10.0, 0.8, evals)  # mirrored: δ < 0
    assert neg == pytest.approx(-tau, abs=1e-12)


@pytest.mark.parametrize(("evals", "tau"), [(1, 0.0), (2, 10.0), (3, 30.0), (20, 30.0)])
def test_line_search_hand_trace_expansion(evals, tau):
    # φ(τ) = −(τ−25)²: 0, 10 (better, δ → 20), 30 (better, δ → 40), 70 worse; nothing above 30 beats 30.
    calls = []

    def phi(t):
        calls.append(t)
        return -((t - 25.0) ** 2)

    assert line_search(phi, 0.0, 10.0, 0.8, evals)[0] == tau
    assert len(calls) == evals
    assert calls[:4] == [0.0, 10.0, 30.0, 70.0][:evals]


def test_line_search_accepts_only_strict_improvements_and_never_nan():
    calls = []

    def flat(t):
        calls.append(t)
        return 1.0

    assert line_search(flat, 2.0, 10.0, 0.5, 5) == (2.0, 1.0)
    assert calls == [2.0, 12.0, 7.0, 4.5, 3.25]  # δ: 10 → 5 (stop expanding) → 2.5 → 1.25
    nan_above_zero = line_search(lambda t: math.nan if t > 0 else 0.0, 0.0, 10.0, 0.8, 20)
    assert nan_above_zero == (0.0, 0.0)


class Recorder:
    """A counting aggregate that records every stacked array it is given."""

    def __init__(self, agg):
        self.agg, self.inputs, self.values = agg, [], []

    def __call__(self, Z):
        self.inputs.append(Z.copy())
        out = self.agg(Z)
        self.values.append(out.copy())
        return out


@pytest.mark.parametrize("name", ["adaptive_ipm", "adaptive_alie"])
@pytest.mark.parametrize("evals", [1, 2, 7, 20])
def test_adaptive_with_mean_expands_and_maximises(name, evals):
    n, f, d = 9, 3, 5
    H = np.random.default_rng(evals).normal(size=(n - f, d)) + 1.0
    mu = H.mean(axis=0)
    direction = -mu if name == "adaptive_ipm" else np.std(H, axis=0, ddof=1)
    offset = 0.0 if name == "adaptive_ipm" else mu
    rec = Recorder(mean_agg)
    out = build(name, evals=evals)(H, AttackContext(n=n, f=f, aggregate=rec))
    assert len(rec.inputs) == evals  # exactly `evals` aggregate calls
    taus, phis = [], []
    for Z, agg in zip(rec.inputs, rec.values, strict=True):
        np.testing.assert_array_equal(Z[: n - f], H)  # good rows first
        assert np.all(Z[n - f :] == Z[n - f])  # f identical Byzantine rows last
        taus.append(float(np.dot(Z[-1] - offset, direction) / np.dot(direction, direction)))
        phis.append(np.linalg.norm(Z.mean(axis=0) - mu))
        np.testing.assert_allclose(Z[-1], offset + taus[-1] * direction, rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(agg, Z.mean(axis=0), rtol=1e-15)
    # φ(τ) = (f/n)·‖τ·direction (+ const)‖ grows with τ ≥ 0: every step of the expansion is accepted
    np.testing.assert_allclose(taus, [10.0 * (2**k - 1) for k in range(evals)], rtol=1e-12, atol=1e-9)
    tau_star = taus[int(np.argmax(phis))]
    assert tau_star == pytest.approx(max(taus), rel=1e-12)
    np.testing.assert_allclose(out, np.tile(offset + tau_star * direction, (f, 1)), rtol=1e-12)


# ---------------------------------------------------------------- byzfl's Opt-IPM / Opt-ALIE pipeline


def nnm(Z, f):
    """Row i ← mean of its n − f nearest rows (itself included); ties → lowest index."""
    n = Z.shape[0]
    sq = ((Z[:, None, :] - Z[None, :, :]) ** 2).sum(axis=2)
    nearest = np.argsort(sq, axis=1, kind="stable")[:, : n - f]
    return Z[nearest].mean(axis=1)


def clipping(Z, c=2.0):
    norms = np.linalg.norm(Z, axis=1)
    return Z * np.minimum(1.0, c / norms)[:, None]


def trmean(Z, f):
    return np.sort(Z, axis=0)[f : Z.shape[0] - f].mean(axis=0)


def byzfl_pipeline(Z):
    return trmean(clipping(nnm(Z, 1)), 1)


@pytest.mark.parametrize(
    ("name", "golden", "tau"),
    [
        ("adaptive_ipm", [-2.74877907, -3.43597384, -4.1231686], 0.68719477),
        ("adaptive_alie", [12.91985116, 13.91985116, 14.91985116], 2.97328372),
    ],
)
def test_byzfl_golden_optimised_attacks(name, golden, tau):
    rec = Recorder(byzfl_pipeline)
    ctx = AttackContext(n=4, f=1, aggregate=rec)
    attack = build(name)
    np.testing.assert_allclose(attack(X, ctx)[0], golden, rtol=1e-8)
    assert len(rec.inputs) == 20
    tau_star, phi_star, vec = attack.search(X, ctx)
    assert tau_star == pytest.approx(tau, rel=1e-7)
    np.testing.assert_allclose(vec, golden, rtol=1e-8)
    # the chosen τ maximises φ among all the τ the search evaluated (independently recomputed)
    mu = X.mean(axis=0)
    phis = [np.linalg.norm(byzfl_pipeline(Z) - mu) for Z in rec.inputs[20:]]
    assert phi_star == pytest.approx(max(phis), rel=1e-12)


def test_adaptive_is_immune_to_an_aggregate_that_writes_into_its_input():
    def clobbering(Z):
        out = byzfl_pipeline(Z)
        Z *= 0.0  # a misbehaving aggregator; the attack must rewrite the good rows each time
        return out

    ctx = AttackContext(n=4, f=1, aggregate=clobbering)
    np.testing.assert_allclose(build("adaptive_ipm")(X, ctx)[0], [-2.74877907, -3.43597384, -4.1231686],
                               rtol=1e-8)
