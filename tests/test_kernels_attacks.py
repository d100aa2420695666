"""Attack kernels against the Python attacks: the same floats bit for bit and the same random stream.

Generated from the registry: every registered attack is run with its ``test_config`` and the extra
settings below on random good rows, and its kernel must write exactly the rows the Python attack
returns and leave its generator in the same state. Adaptive attacks get their ``probe`` from small
jitted aggregators defined here; the Python side calls the same functions as ``ctx.aggregate``.
"""

import itertools

import numpy as np
import pytest
from numba import njit

from byzref.attacks import ATTACKS, Attack, AttackContext
from byzref.attacks._common import good_mean, good_std
from byzref.attacks._kernels import col_mean, col_std
from byzref.errors import ConfigError
from byzref.kernels import Kernel, bind, is_template

# Settings besides test_config (an attack missing here still runs with its test_config).
EXTRA = {
    "alie": [{"z": "baruch_original", "sign": 1}, {"z": 1.5, "sign": 1}, {"z": -0.3, "sign": -1}],
    "ipm": [{"eps": 2.0}, {"eps": 0.0}],
    "gaussian": [{"mu": 0.5, "sigma": 0.0}, {"mu": -1.0, "sigma": 3.0}],
    "mimic": [{"i": 1}, {"i": 4}],
    "nonfinite": [{"kind": "-inf"}, {"kind": "nan"}],
    "adaptive_ipm": [{"evals": 1}, {"evals": 20, "start": 0.5, "delta": -3.0, "ratio": 0.6}],
    "adaptive_alie": [{"evals": 1}, {"evals": 20, "start": -1.0, "delta": 0.25, "ratio": 0.9}],
}
GOOD_ROWS = (1, 2, 5, 16)
BYZANTINE = (1, 3, 8)
DIMS = (1, 5, 100)
ITERATIONS = (0, 7)
SENTINEL = 7.5e77  # prefilled into out: a kernel must overwrite every entry


# --------------------------------------------------------------------------- probes (aggregators)


@njit
def mean_probe(pk, X, out):
    """Coordinate-wise mean, rows added in order."""
    n, d = X.shape
    for j in range(d):
        out[j] = 0.0
    for i in range(n):
        for j in range(d):
            out[j] += X[i, j]
    for j in range(d):
        out[j] /= n


@njit
def median_probe(pk, X, out):
    """Coordinate-wise median by np.median; pk = (column scratch (n,),)."""
    col = pk[0]
    for j in range(X.shape[1]):
        for i in range(X.shape[0]):
            col[i] = X[i, j]
        out[j] = np.median(col)


@njit
def clobber_probe(pk, X, out):
    """The median, then the input overwritten (a search must rewrite its stack before every probe)."""
    median_probe(pk, X, out)
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            X[i, j] = -1e3 * (i + 1)


PROBES = {
    "mean": (mean_probe, lambda n: (0,)),
    "median": (median_probe, lambda n: (np.empty(n),)),
    "clobber": (clobber_probe, lambda n: (np.empty(n),)),
}


_BOUND = {}


def bound(fn, probe):
    """``bind(fn, probe=probe)``, once per process (binding a template compiles a fresh copy)."""
    key = (fn, probe)
    if key not in _BOUND:
        _BOUND[key] = bind(fn, probe=probe)
    return _BOUND[key]


def python_aggregate(probe, pk):
    """The Python counterpart of ``probe``: ctx.aggregate(X) -> a new (d,) array."""

    def aggregate(X):
        out = np.empty(X.shape[1])
        probe(pk, X, out)
        return out

    return aggregate


# --------------------------------------------------------------------------- cases from the registry


def settings_of(name):
    return [dict(ATTACKS.get(name).test_config), *EXTRA.get(name, [])]


def cases():
    for name in ATTACKS.names():
        probes = list(PROBES) if "aggregate" in ATTACKS.get(name).requires else ["mean"]
        for k, params in enumerate(settings_of(name)):
            for probe in probes:
                yield pytest.param(name, params, probe, id=f"{name}-{k}-{probe}")


def rows(data, m, d):
    """m Gaussian rows with a common offset and per-row scales over six decades (rounding matters)."""
    return data.normal() * 10.0 + data.standard_normal((m, d)) * 10.0 ** data.uniform(-3, 3, size=(m, 1))


def assert_same_floats(got, want):
    """Equal values, NaN where NaN, and the same sign of every non-NaN entry (−0.0 is not 0.0)."""
    np.testing.assert_array_equal(got, want)
    ok = ~np.isnan(want)
    np.testing.assert_array_equal(np.signbit(got[ok]), np.signbit(want[ok]))


def generators(seed):
    return (np.random.Generator(np.random.SFC64(seed)), np.random.Generator(np.random.SFC64(seed)))


@pytest.mark.parametrize(("name", "params", "probe_name"), list(cases()))
def test_kernel_matches_python_attack(name, params, probe_name):
    attack = ATTACKS.build({"name": name, **params})
    probe, make_pk = PROBES[probe_name]
    compared = 0
    for m, f, d in itertools.product(GOOD_ROWS, BYZANTINE, DIMS):
        n = m + f
        try:
            kern = attack.kernel(n, f, d)
        except ConfigError:  # the Python attack must refuse the same setting
            ctx = AttackContext(n=n, f=f, aggregate=lambda X: X.mean(axis=0), own_rows=lambda: None,
                                flipped_rows=lambda: None)
            with pytest.raises(ConfigError):
                attack(np.zeros((m, d)), ctx, np.random.default_rng(0))
            continue
        assert isinstance(kern, Kernel) and isinstance(kern.params, tuple) and len(kern.params) > 0
        fn = bound(kern.fn, probe)
        pk = make_pk(n)
        for t in ITERATIONS:  # one kernel, called twice: scratch and state in params are reused
            seed = 1000 * m + 100 * f + 10 * d + t
            data = np.random.default_rng(seed)
            H = rows(data, m, d)
            H.flags.writeable = False  # read only for both (a kernel writing into H does not compile)
            own = rows(data, f, d)
            ctx = AttackContext(n=n, f=f, t=t, aggregate=python_aggregate(probe, pk),
                                own_rows=lambda own=own: own, flipped_rows=lambda own=own: own)
            rng_py, rng_k = generators(seed)
            want = attack(H, ctx, rng_py)
            out = np.full((f, d), SENTINEL)
            fn(kern.params, H, own, t, rng_k, pk, out)
            assert_same_floats(out, want)
            np.testing.assert_equal(rng_k.bit_generator.state, rng_py.bit_generator.state)
            compared += 1
    assert compared > 0


@pytest.mark.parametrize("name", ATTACKS.names())
def test_every_attack_has_its_own_kernel(name):
    cls = ATTACKS.get(name)
    assert cls.kernel is not Attack.kernel, f"attack {name!r} has no kernel"
    kern = ATTACKS.build({"name": name, **cls.test_config}).kernel(7, 2, 3)
    if "aggregate" in cls.requires:  # probe is a free name bound per run: only templates have one
        assert is_template(kern.fn)


@pytest.mark.parametrize("name", ATTACKS.names())
def test_no_byzantine_rows_writes_and_draws_nothing(name):
    attack = ATTACKS.build({"name": name, **ATTACKS.get(name).test_config})
    for m, d in [(1, 4), (5, 1)]:  # n − f = 1 is fine when nothing is written
        kern = attack.kernel(m, 0, d)
        fn = bound(kern.fn, mean_probe)
        rng_py, rng_k = generators(m)
        H = rows(np.random.default_rng(m), m, d)
        H.flags.writeable = False
        fn(kern.params, H, np.empty((0, d)), 0, rng_k, (0,), np.empty((0, d)))
        np.testing.assert_equal(rng_k.bit_generator.state, rng_py.bit_generator.state)


def test_base_attack_has_no_kernel():
    with pytest.raises(NotImplementedError):
        Attack().kernel(3, 1, 2)


@pytest.mark.parametrize("m", [2, 3, 7, 8, 9, 15, 16, 17, 127, 128, 129, 135, 256, 257, 300, 1000, 5003])
@pytest.mark.parametrize("d", [1, 2, 3, 30])
def test_column_statistics_match_numpy(m, d):
    # d = 1 is NumPy's pairwise summation (8 partial sums up to 128 values, halves above)
    data = np.random.default_rng(m * 10 + d)
    for _ in range(5):
        H = rows(data, m, d)
        mu, sd = np.empty(d), np.empty(d)
        col_mean(H, mu)
        col_std(H, mu, sd)
        want_mu = good_mean(H, "test")
        assert_same_floats(mu, want_mu)
        assert_same_floats(sd, good_std(H, "test", want_mu))


def test_column_statistics_of_negative_zeros():
    for shape in [(3, 1), (9, 1), (3, 2)]:
        H = np.full(shape, -0.0)
        mu = np.empty(shape[1])
        col_mean(H, mu)
        assert_same_floats(mu, H.mean(axis=0))


@pytest.mark.parametrize("name", ["sign_flip", "ipm", "alie", "adaptive_alie", "adaptive_ipm"])
@pytest.mark.parametrize("m", [129, 300])
def test_many_good_rows_one_coordinate(name, m):
    attack = ATTACKS.build({"name": name, **ATTACKS.get(name).test_config})
    f, d = 3, 1
    kern = attack.kernel(m + f, f, d)
    fn = bound(kern.fn, median_probe)
    pk = (np.empty(m + f),)
    H = rows(np.random.default_rng(m), m, d)
    H.flags.writeable = False
    ctx = AttackContext(n=m + f, f=f, aggregate=python_aggregate(median_probe, pk))
    rng_py, rng_k = generators(m)
    want = attack(H, ctx, rng_py)
    out = np.full((f, d), SENTINEL)
    fn(kern.params, H, np.zeros((f, d)), 0, rng_k, pk, out)
    assert_same_floats(out, want)
