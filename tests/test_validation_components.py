"""Bad component parameters fail early with one-line ConfigErrors that name field, value and range.

Covers: missing required parameters (registry), GM against huge finite rows, krum/multikrum's
n ≥ 2f + 3, ``check_dim`` (cclip's centre), a sweep of out-of-range values over every registered
component and numeric parameter, LIBSVM path/file errors and memory refusals before allocation.
"""

from __future__ import annotations

import gzip
import math
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from byzref import resources
from byzref.aggregators import AGGREGATORS, PRE_AGGREGATORS, build_aggregator
from byzref.algorithms import ALGORITHMS
from byzref.attacks import ATTACKS
from byzref.attacks.base import AttackContext
from byzref.compressors import COMPRESSORS
from byzref.errors import ConfigError, show
from byzref.registry import Registry
from problems import PROBLEMS, build_problem
from problems.datasets import load_libsvm

GB = 10**9


def _one_line(exc) -> str:
    msg = str(exc.value) if hasattr(exc, "value") else str(exc)
    assert "\n" not in msg, msg
    return msg


# --- 1. missing required parameters ------------------------------------------------------------


@pytest.mark.parametrize(
    ("registry", "config", "want"),
    [
        (
            ALGORITHMS,
            {"name": "byz_dm21", "eta": 0.5},
            [
                r"algorithm 'byz_dm21' needs parameter 'gamma' \(a real number in \(0, inf\)\)",
                r'e\.g\. \{name = "byz_dm21", gamma = 0\.05\}',
                r"accepted: batch, eta, eta2, gamma, init_batch, variant",
            ],
        ),
        (
            ALGORITHMS,
            {"name": "byz_dm21"},
            [
                r"needs parameters 'gamma' \(a real number in \(0, inf\)\), "
                r"'eta' \(a real number in \(0, 1\]\)",
                r'\{name = "byz_dm21", gamma = 0\.05, eta = 0\.5\}',
            ],
        ),
        (ALGORITHMS, "byz_ef21_sgdm", [r"'gamma' .*'eta' \(a real number in \(0, 1\]\)"]),
        (
            COMPRESSORS,
            "top_k",
            [
                r"compressor 'top_k' needs parameter 'k' \(an integer in \[1, d\]",
                r'\{name = "top_k", k = 2\}',
                r"accepted: float_bits, k",
            ],
        ),
        (COMPRESSORS, {"name": "qsgd", "float_bits": 16}, [r"'s' \(an integer in \[1, 2\^53\]\)"]),
    ],
)
def test_missing_required_parameter_is_named_with_its_range(registry, config, want):
    with pytest.raises(ConfigError) as exc:
        registry.build(config)
    msg = _one_line(exc)
    for pattern in want:
        assert re.search(pattern, msg), (pattern, msg)


def test_stray_constructor_errors_become_config_errors_naming_the_field():
    reg = Registry("widget")

    @reg.register("w")
    class W:
        def __init__(self, width=1, depth=2):
            self.width = int(width) + depth  # int("x") raises a ValueError that names nothing

    with pytest.raises(ConfigError) as exc:
        reg.build({"name": "w", "width": "x"})
    msg = _one_line(exc)
    assert msg.startswith("width = 'x' is not allowed (invalid literal") and msg.endswith("(widget 'w')")
    assert "allowed: see the component's documentation" in msg

    @reg.register("v")
    class V:
        def __init__(self, depth=2, height=3):
            raise TypeError("unsupported operand")

    with pytest.raises(ConfigError, match=r"^depth = 3 is not allowed \(unsupported operand\); allowed: see"):
        reg.build({"name": "v", "depth": 3})
    with pytest.raises(
        ConfigError,
        match=r"^widget 'v' refused its parameters depth = 3, height = 'x' "
        r"\(unsupported operand\); allowed: see the documentation",
    ):
        reg.build({"name": "v", "depth": 3, "height": "x"})


def test_constructor_config_errors_name_the_component():
    with pytest.raises(
        ConfigError,
        match=r"^eta = 1\.5 is outside the allowed range \(0, 1\] "
        r"\(algorithm 'byz_dm21'\)$",
    ):
        ALGORITHMS.build({"name": "byz_dm21", "gamma": 0.1, "eta": 1.5})


# --- 2. gm against huge finite Byzantine rows --------------------------------------------------


def _good_and_huge(seed, kind):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((20, 10))
    if kind == "1e308":
        X[16:] = 1e308
    elif kind == "-1e308":
        X[16:] = -1e308
    elif kind == "mix":  # every entry ±1e300
        X[16:] = 1e300 * rng.choice([-1.0, 1.0], (4, 10))
    elif kind == "pm1e308":  # two rows at +1e308, two at −1e308: their differences overflow
        X[16:18], X[18:] = 1e308, -1e308
    else:  # rows at 1e300 in one direction
        X[16:] = 1e300 * rng.standard_normal(10)
    return X


def _true_gm_direction_residual(X, z):
    """‖Σ_i (x_i − z)/‖x_i − z‖‖ over all rows, each unit vector computed on scaled data."""
    g = np.zeros(X.shape[1])
    for x in X:
        u = x / 2 - z / 2  # no overflow
        g += u / np.linalg.norm(u / np.abs(u).max()) / np.abs(u).max()
    return np.linalg.norm(g)


@pytest.mark.parametrize("kind", ["1e308", "-1e308", "mix", "pm1e308", "dir"])
@pytest.mark.parametrize("spec", ["gm", "gm(start=zero)", "gm(start=median)", "nnm+gm", "bucketing(2)+gm"])
def test_gm_stays_finite_and_near_the_good_rows_against_huge_rows(spec, kind):
    X = _good_and_huge(0, kind)
    with np.errstate(all="raise"):  # no overflow anywhere (numba kernels do not raise, numpy does)
        z = build_aggregator(spec, f=4)(X, np.random.default_rng(1))
    assert np.isfinite(z).all()
    spread = np.linalg.norm(X[:16].std(axis=0))
    assert np.linalg.norm(z - X[:16].mean(axis=0)) < 2 * spread


@pytest.mark.parametrize("kind", ["1e308", "mix", "pm1e308", "dir"])
def test_gm_on_huge_rows_satisfies_its_first_order_condition(kind):
    # Every row exerts a unit pull on the geometric median, however far it is: the huge rows must
    # not be dropped (weight 0) when their distance overflows float64.
    X = _good_and_huge(3, kind)
    z, _, converged = build_aggregator({"name": "gm", "tol": 1e-12, "max_iter": 1000}, f=4).solve(X)
    assert converged
    assert _true_gm_direction_residual(X, z) < 1e-6


@given(
    seed=st.integers(0, 2**32 - 1),
    kind=st.sampled_from(["1e308", "-1e308", "mix", "pm1e308", "dir"]),
    f=st.integers(1, 9),
)
def test_gm_default_is_finite_and_robust_for_any_huge_attack(seed, kind, f):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((20, 10))
    huge = _good_and_huge(seed, kind)[16:]
    X[20 - f :] = huge[rng.integers(0, 4, f)]
    z, _, converged = build_aggregator("gm", f=f).solve(X)
    assert np.isfinite(z).all() and converged
    # the geometric median lies within a good-rows ball whose radius grows with f/(n − 2f)
    good = X[: 20 - f]
    assert np.linalg.norm(z - np.median(good, axis=0)) < 10 * (1 + f / (20 - 2 * f)) * np.sqrt(10)


def test_gm_mean_start_overflow_used_to_divide_by_zero():
    # Before the fix the mean of these rows overflowed, every weight became 0 and the kernel raised
    # ZeroDivisionError. The overflow-safe mean is Σ x/n per column.
    X = _good_and_huge(0, "1e308")
    z, updates, converged = build_aggregator("gm", f=4).solve(X)
    assert np.isfinite(z).all() and converged and updates > 0


# --- 3. krum and multikrum need n ≥ 2f + 3 -----------------------------------------------------


@pytest.mark.parametrize("name", ["krum", "multikrum"])
def test_krum_family_refuses_n_below_2f_plus_3(name):
    with pytest.raises(ConfigError) as exc:
        build_aggregator(name, f=3).check(7)
    msg = _one_line(exc)
    assert msg == f"{name} needs n ≥ 2f + 3 (n = 7, f = 3 given); allowed f range [0, 2]"
    build_aggregator(name, f=2).check(7)  # the boundary n = 2f + 3 is fine
    with pytest.raises(ConfigError, match=r"n = 2, f = 0 given\); allowed: n ≥ 3 rows"):
        build_aggregator(name, f=0).check(2)


def test_krum_m_nb_reports_its_range():
    with pytest.raises(ConfigError, match=r"^m_nb = -1 is outside the allowed range \[1, n − f − 1\]"):
        build_aggregator({"name": "krum", "m_nb": -1}, f=1)
    with pytest.raises(
        ConfigError, match=r"^krum: m_nb = 9 with n = 9, f = 2; allowed range \[1, n − f − 1 = 6\]$"
    ):
        build_aggregator({"name": "krum", "m_nb": 9}, f=2).check(9)
    with pytest.raises(ConfigError, match=r"m = 0 is outside the allowed range \[1, n − f\]"):
        build_aggregator({"name": "multikrum", "m": 0})


@pytest.mark.parametrize(
    ("spec", "n", "f", "match"),
    [
        ("nnm+krum", 7, 3, r"^krum needs n ≥ 2f \+ 3 \(n = 7, f = 3 given\); allowed f range \[0, 2\]$"),
        (
            "bucketing(s=2)+krum",
            10,
            2,
            r"^krum needs n ≥ 2f \+ 3 \(n = 5, f = 2 given\); allowed f range \[0, 1\] "
            r"\(krum sees the 5 rows that bucketing\(s=2\) makes of the n = 10 inputs\)$",
        ),
        ("bucketing(s=2)+multikrum", 9, 2, r"multikrum needs n ≥ 2f \+ 3 \(n = 5, f = 2 given\)"),
        (
            "nnm+bucketing(s=3)+krum",
            12,
            1,
            r"krum needs n ≥ 2f \+ 3 \(n = 4, f = 1 given\).*"
            r"that bucketing\(s=3\) makes of the n = 12 inputs",
        ),
    ],
)
def test_krum_condition_through_pipelines(spec, n, f, match):
    with pytest.raises(ConfigError, match=match):
        build_aggregator(spec, f=f).check(n)
    build_aggregator(spec, f=0).check(n)


# --- 4. check_dim ------------------------------------------------------------------------------


def test_check_dim_refuses_a_centre_of_the_wrong_length():
    agg = build_aggregator({"name": "cclip", "center": [0.0, 1.0, 2.0]})
    agg.check_dim(3)
    with pytest.raises(ConfigError) as exc:
        agg.check_dim(10)
    assert _one_line(exc) == (
        "aggregator.center = [0.0, 1.0, 2.0] has 3 entries but the problem has d = 10; "
        "allowed: a vector of length d = 10 (or no center: start from the previous output)"
    )
    pipe = build_aggregator({"name": "nnm+bucketing(2)+cclip", "center": [0.0, 1.0, 2.0]}, f=1)
    pipe.check_dim(3)
    with pytest.raises(ConfigError, match=r"aggregator\.center .* has 3 entries but the problem has d = 4"):
        pipe.check_dim(4)


@pytest.mark.parametrize("spec", ["mean", "cwmed", "gm", "krum", "cclip", "nnm+cwtm", "bucketing(2)+cclip"])
def test_check_dim_is_a_no_op_without_vector_parameters(spec):
    agg = build_aggregator(spec)
    agg.check_dim(7)
    with pytest.raises(ConfigError, match=r"d = 0 is outside the allowed range \[1, inf\]"):
        agg.check_dim(0)


@pytest.mark.parametrize(
    "center", [[[0.0, 1.0]], 5.0, True, [True, False], "ab", [], [1.0, "x"], [[1.0], [2.0, 3.0]]]
)
def test_cclip_centre_must_be_a_flat_vector_of_reals(center):
    with pytest.raises(ConfigError) as exc:
        AGGREGATORS.build({"name": "cclip", "center": center})
    msg = _one_line(exc)
    assert msg.startswith(f"center = {show(center)} is not allowed; allowed: a non-empty 1-D vector")


# --- 5. every registered component and numeric parameter: out-of-range values -------------------
#
# The table below is the test's own statement of each parameter's allowed values (from the
# docstrings). For every parameter the sweep tries values outside that range (negative, zero where
# it is excluded, just beyond a finite bound, huge, NaN, ±inf, a string, a bool, a list, None where
# the parameter is required) and a few inside it. Outside: a one-line ConfigError naming the
# field and the value and saying "allowed" or "valid". Inside: no error.

N_ROWS, F_BYZ, DIM = 11, 2, 10  # aggregators check against n = 11 with f = 2, compressors against d = 10
N_WORKERS, F_WORKERS = 5, 1  # problems


class Real:
    """A real parameter in an interval; ``none``: None is valid; ``nonzero``: 0 is excluded."""

    def __init__(self, lo=None, hi=None, lo_open=False, hi_open=False, none=False, nonzero=False):
        self.lo, self.hi, self.lo_open, self.hi_open = lo, hi, lo_open, hi_open
        self.none, self.nonzero = none, nonzero

    def valid(self, v):
        if v is None:
            return self.none
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            return False
        if self.nonzero and v == 0:
            return False
        if self.lo is not None and (v < self.lo or (self.lo_open and v == self.lo)):
            return False
        return not (self.hi is not None and (v > self.hi or (self.hi_open and v == self.hi)))

    def probes(self):
        out = [-1.0, 0.0, 1e300, -1e300, math.nan, math.inf, -math.inf, "x", True, [1.0], None, 0.5]
        if self.hi is not None:
            out += [self.hi + 0.5, self.hi]
        if self.lo is not None:
            out += [self.lo, self.lo + 0.25]
        return out


class Int:
    """An integer parameter in [lo, hi] (hi None: unbounded); ``none``: None is valid."""

    def __init__(self, lo=None, hi=None, none=False, big_ok=True):
        self.lo, self.hi, self.none, self.big_ok = lo, hi, none, big_ok

    def valid(self, v):
        if v is None:
            return self.none
        if isinstance(v, bool) or not isinstance(v, int):
            return False
        return (self.lo is None or v >= self.lo) and (self.hi is None or v <= self.hi)

    def probes(self):
        out = [-1, 0, 2.5, math.nan, math.inf, "x", True, [1], None]
        out += [10**30] if self.hi is not None or not self.big_ok else []
        if self.lo is not None:
            out += [self.lo - 1, self.lo, self.lo + 1]
        if self.hi is not None:
            out += [self.hi + 1] + (
                [self.hi] if self.hi <= 1000 else []
            )  # (a huge valid count would be slow)
        return out


class Choice:
    """One of the given choices (plus real numbers when ``reals``)."""

    def __init__(self, *choices, reals=False, none=False):
        self.choices, self.reals, self.none = choices, reals, none

    def valid(self, v):
        if v is None:
            return self.none
        if self.reals and isinstance(v, (int, float)) and not isinstance(v, bool):
            return math.isfinite(v)
        return any(type(v) is type(c) and v == c for c in self.choices)

    def probes(self):
        return ["x", "", 1, 2, 0, 1.5, True, None, [1], math.nan, math.inf, *self.choices]


class Memory:
    """A size whose huge values are refused for lack of memory (2 GB available in this test)."""

    def __init__(self, lo=1, big=(10**9,), hi=None, none=False):
        self.lo, self.big, self.hi, self.none = lo, big, hi, none

    def valid(self, v):
        if v is None:
            return self.none
        if isinstance(v, bool) or not isinstance(v, int) or v in self.big or v == 10**30:
            return False
        return v >= self.lo and (self.hi is None or v <= self.hi)

    def probes(self):
        return [-1, 0, 2.5, math.nan, "x", True, [1], None, 10**30, *self.big, self.lo - 1]


GAMMA, BATCH, UNIT = Real(0, lo_open=True), Int(1), Real(0, 1, lo_open=True)
FLOAT_BITS = Int(1, 128)
K = Int(1, DIM)
F_ANY = Int(0, N_ROWS - 1)
F_HALF = Int(0, (N_ROWS - 1) // 2)
F_KRUM = Int(0, (N_ROWS - 3) // 2)

SPECS: dict[tuple[str, str], dict[str, object]] = {
    # compressors (checked against d = 10)
    ("compressor", "identity"): {"float_bits": FLOAT_BITS},
    ("compressor", "natural"): {"float_bits": FLOAT_BITS},
    ("compressor", "scaled_sign"): {"float_bits": FLOAT_BITS},
    ("compressor", "top_k"): {"k": K, "float_bits": FLOAT_BITS},
    ("compressor", "rand_k"): {"k": K, "float_bits": FLOAT_BITS},
    ("compressor", "rand_k_biased"): {"k": K, "float_bits": FLOAT_BITS},
    ("compressor", "qsgd"): {"s": Int(1, 2**53), "float_bits": FLOAT_BITS},
    # aggregators (n = 11 rows; the f probes override the context f = 2)
    ("aggregator", "mean"): {"f": F_ANY},
    ("aggregator", "cwmed"): {"f": F_HALF},
    ("aggregator", "meamed"): {"f": F_HALF},
    ("aggregator", "cwtm"): {"f": F_HALF, "b": Int(0, (N_ROWS - 1) // 2, none=True)},
    ("aggregator", "krum"): {"f": F_KRUM, "m_nb": Int(1, N_ROWS - F_BYZ - 1, none=True)},
    ("aggregator", "multikrum"): {
        "f": F_KRUM,
        "m_nb": Int(1, N_ROWS - F_BYZ - 1, none=True),
        "m": Int(1, N_ROWS - F_BYZ, none=True),
    },
    ("aggregator", "gm"): {
        "f": F_HALF,
        "start": Choice("mean", "zero", "median"),
        "nu": Real(0, lo_open=True, none=True),
        "max_iter": Int(0, 10**6),
        "tol": Real(0),
    },
    ("aggregator", "cclip"): {"f": F_ANY, "tau": Real(0, lo_open=True), "L": Int(1, 10**6)},
    ("pre-aggregator", "bucketing"): {"f": F_ANY, "s": Int(1)},
    ("pre-aggregator", "nnm"): {"f": F_ANY},
    # attacks (dry run with n = 11, f = 2, d = 10)
    ("attack", "ipm"): {"eps": Real(0)},
    ("attack", "alie"): {"z": Choice("baruch", "baruch_original", reals=True), "sign": Choice(-1, 1)},
    ("attack", "gaussian"): {"mu": Real(), "sigma": Real(0)},
    ("attack", "mimic"): {"i": Int(0, N_ROWS - F_BYZ - 1)},
    ("attack", "nonfinite"): {"kind": Choice("inf", "-inf", "nan")},
    ("attack", "adaptive_ipm"): {
        "evals": Int(1, 10**6),
        "start": Real(),
        "delta": Real(nonzero=True),
        "ratio": Real(0, 1, lo_open=True, hi_open=True),
    },
    ("attack", "adaptive_alie"): {
        "evals": Int(1, 10**6),
        "start": Real(),
        "delta": Real(nonzero=True),
        "ratio": Real(0, 1, lo_open=True, hi_open=True),
    },
    # algorithms
    ("algorithm", "byz_dm21"): {
        "gamma": GAMMA,
        "eta": UNIT,
        "eta2": Real(0, 1, lo_open=True, none=True),
        "batch": BATCH,
        "variant": Choice("paper", "released"),
    },
    ("algorithm", "dm21"): {
        "gamma": GAMMA,
        "eta": UNIT,
        "eta2": Real(0, 1, lo_open=True, none=True),
        "batch": BATCH,
        "variant": Choice("paper", "released"),
    },
    ("algorithm", "byz_vr_dm21"): {
        "gamma": GAMMA,
        "eta": UNIT,
        "eta2": Real(0, 1, lo_open=True, none=True),
        "batch": BATCH,
        "init": Choice("paper", "released"),
    },
    ("algorithm", "byz_ef21"): {"gamma": GAMMA},
    ("algorithm", "ef21"): {"gamma": GAMMA},
    ("algorithm", "byz_ef21_sgd"): {"gamma": GAMMA, "batch": BATCH},
    ("algorithm", "byz_ef21_sgdm"): {"gamma": GAMMA, "eta": UNIT, "batch": BATCH},
    ("algorithm", "ef21_sgdm"): {"gamma": GAMMA, "eta": UNIT, "batch": BATCH},
    ("algorithm", "byz_vr_marina"): {"gamma": GAMMA, "p": UNIT, "batch": BATCH},
    ("algorithm", "byz_dasha_page"): {
        "gamma": GAMMA,
        "p": UNIT,
        "batch": BATCH,
        "a": Real(0, 1, lo_open=True, none=True),
    },
    ("algorithm", "robust_momentum_sgd"): {"gamma": GAMMA, "beta": Real(0, 1, hi_open=True), "batch": BATCH},
    ("algorithm", "br_csgd"): {"gamma": GAMMA, "batch": BATCH},
    ("algorithm", "br_diana"): {"gamma": GAMMA, "batch": BATCH, "alpha": Real(0, 1, lo_open=True, none=True)},
}
_WORKERS = {"n": Memory(lo=2, big=(10**8,)), "f": Int(0, N_WORKERS - 1)}
# test_config's zeta2 > 0 needs two good workers: f ≤ n − 2
_SYNTH = {
    "n": Memory(lo=3, big=(10**8,)),
    "f": Int(0, N_WORKERS - 2),
    "d": Memory(big=(10**9,)),
    "zeta2": Real(0),
    "sigma2": Real(0),
}
SPECS[("problem", "quadratic")] = {
    **_SYNTH,
    "L": Real(0, 1e100, lo_open=True),
    "mu": Real(0, 1, lo_open=True),
    "zero_eigs": Int(0, 4, none=True),
}  # 5: one eigenvalue, needs mu = L
SPECS[("problem", "nonconvex_synthetic")] = {
    **_SYNTH,
    "lam": Real(0, 1e100, lo_open=True),
    "a_min": Real(0, 1, lo_open=True),
    "a_max": Real(0.01, 1e100),
    "flat": Int(0, 6),
    "curvature_std": Real(0, 1e100),
    "region_radius": Real(0, 1e100, none=True),
    "x0_scale": Real(0, 1e100),
}
_FINITE_SUM = {
    **_WORKERS,
    "data": Choice("synthetic"),
    "samples_per_worker": Memory(big=(10**9,), none=True),
    "d": Memory(big=(10**9,), none=True),
    "margin": Real(0, 1e6, none=True),
    "split": Choice("iid", "label_skew", "dirichlet"),
    "skew": Real(0, 1),
    "alpha": Real(0, lo_open=True),
    "normalize": Choice("auto", "none", "rows", "standardize", "standardize_rows"),
}
SPECS[("problem", "least_squares")] = {**_FINITE_SUM, "lam": Real(0, 1e100, none=True)}
SPECS[("problem", "logreg_nonconvex")] = {**_FINITE_SUM, "lam": Real(0, 1e100, none=True)}
SPECS[("problem", "logreg_l2")] = {**_FINITE_SUM, "lam": Real(0, 1e100, lo_open=True, none=True)}

REGISTRIES = {
    "compressor": COMPRESSORS,
    "aggregator": AGGREGATORS,
    "pre-aggregator": PRE_AGGREGATORS,
    "attack": ATTACKS,
    "algorithm": ALGORITHMS,
    "problem": PROBLEMS,
}
# components without numeric or enum parameters (nothing to sweep)
NO_PARAMS = {("attack", "none"), ("attack", "sign_flip"), ("attack", "bit_flip"), ("attack", "label_flip")}


def _build_and_check(family, name, params):
    """Build the component with ``params`` over its test_config and run its checks (as a run would)."""
    cls = REGISTRIES[family].get(name)
    cfg = {"name": name, **cls.test_config, **params}
    if family == "compressor":
        COMPRESSORS.build(cfg).check(DIM)
    elif family in ("aggregator", "pre-aggregator"):
        agg = REGISTRIES[family].build(cfg, f=F_BYZ)
        agg.check(N_ROWS)
        agg.check_dim(DIM)
    elif family == "attack":
        attack = ATTACKS.build(cfg)
        rows = np.zeros((F_BYZ, DIM))
        ctx = AttackContext(
            n=N_ROWS,
            f=F_BYZ,
            aggregate=lambda X: X.mean(axis=0),
            own_rows=lambda: rows,
            flipped_rows=lambda: rows,
        )
        with np.errstate(over="ignore"):  # a valid huge scale makes the adaptive search overflow: allowed
            attack(
                np.arange(float((N_ROWS - F_BYZ) * DIM)).reshape(N_ROWS - F_BYZ, DIM),
                ctx,
                np.random.default_rng(0),
            )
    elif family == "algorithm":
        ALGORITHMS.build(cfg)
    else:
        context = {"n": N_WORKERS, "f": F_WORKERS}
        for key in ("n", "f"):
            if key in cfg:
                context[key] = cfg.pop(key)
        PROBLEMS.build(cfg, rng=np.random.default_rng(0), **context)


def _cases():
    for (family, name), params in SPECS.items():
        for param, spec in params.items():
            seen = set()
            for v in spec.probes():
                key = repr(v)
                if key not in seen:
                    seen.add(key)
                    yield family, name, param, v, spec.valid(v)


def _check_case(family, name, param, value, valid) -> str | None:
    """None when the case behaves as required, else a description of what went wrong."""
    try:
        with np.errstate(over="raise", invalid="raise", divide="raise"):  # valid values must not overflow
            _build_and_check(family, name, {param: value})
    except ConfigError as exc:
        msg = str(exc)
        if valid:
            return f"refused a valid value: {msg}"
        problems = []
        if "\n" in msg:
            problems.append("several lines")
        if not re.search(rf"(?<![\w.]){re.escape(param)}\b", msg):
            problems.append("field not named")
        if show(value) not in msg and str(value) not in msg:
            problems.append("value not shown")
        if "allowed" not in msg and "valid" not in msg:
            problems.append("no allowed range or valid values")
        return f"{', '.join(problems)}: {msg}" if problems else None
    except Exception as exc:
        return f"{type(exc).__name__} instead of ConfigError: {' '.join(str(exc).split())[:200]}"
    return None if valid else "accepted an invalid value"


def run_sweep():
    """Every case with its outcome: [(family, name, param, value, valid, problem or None)]."""
    real = resources.available_memory
    resources.available_memory = lambda: 2 * GB
    try:
        return [(*case, _check_case(*case)) for case in _cases()]
    finally:
        resources.available_memory = real


def test_the_sweep_covers_every_registered_component():
    for family, reg in REGISTRIES.items():
        for name in reg.names():
            assert (family, name) in SPECS or (family, name) in NO_PARAMS, (family, name)


@pytest.mark.parametrize(("family", "name"), sorted(SPECS))
def test_out_of_range_values_are_one_line_errors_with_field_value_and_range(family, name, monkeypatch):
    monkeypatch.setattr(resources, "available_memory", lambda: 2 * GB)
    bad = []
    for case in _cases():
        if case[:2] == (family, name):
            problem = _check_case(*case)
            if problem:
                bad.append(f"{case[2]} = {show(case[3])}: {problem}")
    assert not bad, "\n".join(bad)


# --- 6. problems: LIBSVM paths and files, memory -----------------------------------------------


@pytest.fixture
def svm_file(tmp_path):
    path = tmp_path / "ok.svm"
    path.write_text(
        "".join(f"{1 if i % 2 else -1} 1:{i * 0.1:.3f} 3:{1 - i * 0.05:.3f}\n" for i in range(20))
    )
    return path


def _libsvm_problem(path, **extra):
    return build_problem(
        {"name": "logreg_l2", "data": "libsvm", "path": path, **extra}, np.random.default_rng(0), n=4, f=1
    )


@pytest.mark.parametrize("path", [5, 1.5, True, ["a.svm"], b"a.svm", ""])
def test_libsvm_path_of_the_wrong_type(path):
    with pytest.raises(ConfigError) as exc:
        _libsvm_problem(path)
    msg = _one_line(exc)
    assert msg.startswith(
        f"problem.path = {show(path)} is not a file path; allowed: a string naming a LIBSVM file"
    )


def test_libsvm_missing_directory_unreadable_and_binary_files(tmp_path, svm_file):
    cases = {
        tmp_path / "missing.svm": r"no such LIBSVM file; allowed: the path of an existing LIBSVM file",
        tmp_path: r"is a directory; allowed: a LIBSVM file",
    }
    binary = tmp_path / "model.bin"
    binary.write_bytes(bytes(range(256)) * 4)
    cases[binary] = r"near line 1: not UTF-8 text \(a binary file\?\)"
    nul = tmp_path / "nul.svm"
    nul.write_bytes(b"1 1:0.5\n-1 1:0.25\x00\x00\n")
    cases[nul] = r"line 2: NUL byte \(a binary file\?\); allowed: a LIBSVM text file"
    latin = tmp_path / "latin.svm"
    latin.write_bytes(b"1 1:0.5\n-1 1:\xe9\xff\n")
    cases[latin] = r"near line \d: not UTF-8 text"
    broken_gz = tmp_path / "broken.svm.gz"
    broken_gz.write_bytes(b"not gzip at all")
    cases[broken_gz] = r"cannot be read \(.*\); allowed: a readable LIBSVM text file"
    for path, match in cases.items():
        with pytest.raises(ConfigError) as exc:
            _libsvm_problem(str(path))
        msg = _one_line(exc)
        assert msg.startswith(f"problem.path = {str(path)!r}"), msg
        assert re.search(match, msg), (match, msg)


def test_libsvm_unreadable_file(tmp_path, svm_file):
    import os

    svm_file.chmod(0)
    try:
        if os.access(svm_file, os.R_OK):
            pytest.skip("running as a user that can read any file (root)")
        with pytest.raises(ConfigError, match=r"cannot be read \(Permission denied\)"):
            _libsvm_problem(str(svm_file))
    finally:
        svm_file.chmod(0o644)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("secret 1:0.5", "expected a numeric label first"),
        ("1 secret", "expected index:value pairs after the label"),
        ("1 x7:0.5", "expected an integer feature index before ':'"),
        ("1 0:0.5", "feature index 0 < 1; LIBSVM indices are 1-based"),
        ("1 2:secret", "expected a real number after ':'"),
        ("1 2:nan", "non-finite feature value"),
        ("inf 2:1", "non-finite label"),
    ],
)
def test_libsvm_parse_errors_give_line_and_expectation_but_not_the_content(tmp_path, line, expected):
    path = tmp_path / "bad.svm"
    path.write_text(f"1 1:0.5\n-1 2:0.25\n{line}\n")
    with pytest.raises(ConfigError) as exc:
        load_libsvm(path)
    msg = _one_line(exc)
    assert "line 3: " in msg and expected in msg and ("allowed" in msg or "expected" in msg)
    assert "secret" not in msg and line not in msg


def test_libsvm_n_features_too_large_is_refused_before_allocating(svm_file, monkeypatch):
    monkeypatch.setattr(resources, "available_memory", lambda: 3 * GB)
    with pytest.raises(ConfigError) as exc:
        _libsvm_problem(str(svm_file), n_features=10**9)
    msg = _one_line(exc)
    assert msg.startswith(
        "problem 'logreg_l2' with n = 4, n_features = 1000000000 and 20 samples in the file"
    )
    assert re.search(
        r"needs about [\d.]+e\+\d+ GB of memory; this machine has 3\.0 GB available; allowed: ", msg
    )
    assert re.search(r"n_features ≤ \d+ at n = 4", msg)
    with pytest.raises(
        ConfigError,
        match=r"n_features = 2 is below the largest index in the file \(3\); "
        r"allowed range \[3, inf\]",
    ):
        _libsvm_problem(str(svm_file), n_features=2)
    assert _libsvm_problem(str(svm_file), n_features=7).d == 7


@pytest.mark.parametrize(
    ("config", "context", "match"),
    [
        (
            {"name": "quadratic", "d": 10**9},
            {"n": 4},
            r"problem 'quadratic' with n = 4, d = 1000000000 \(.*\) "
            r"needs about 4\.8e\+10 GB of memory; this machine has 3\.0 GB available; "
            r"allowed: d ≤ 7\d{3} at n = 4",
        ),
        # no d fits n = 10⁸ workers: only the n alternative is offered
        (
            {"name": "quadratic", "d": 100},
            {"n": 10**8},
            r"with n = 100000000, d = 100 .*needs about 400\.0 GB "
            r".*allowed: n ≤ 749880 at d = 100 \(problem 'quadratic'\)$",
        ),
        # 8·(4nd + 4d) bytes: 352 GB; d ≤ 3e9/(8·44) = 8522727 at n = 10
        (
            {"name": "nonconvex_synthetic", "d": 10**9},
            {"n": 10},
            r"with n = 10, d = 1000000000 .*needs about "
            r"352\.0 GB.*allowed: d ≤ 8522727 at n = 10",
        ),
        (
            {"name": "logreg_nonconvex", "d": 10**6},
            {"n": 4},
            r"samples_per_worker = 50, d = 1000000 .*allowed: .*"
            r"d ≤ \d+ at n = 4, samples_per_worker = 50",
        ),
        (
            {"name": "least_squares", "samples_per_worker": 10**10},
            {"n": 4},
            r"samples_per_worker = 10000000000, d = 20 .*allowed: .*"
            r"samples_per_worker ≤ \d+ at n = 4, d = 20",
        ),
    ],
)
def test_problem_sizes_beyond_the_available_memory_are_refused(config, context, match, monkeypatch):
    monkeypatch.setattr(resources, "available_memory", lambda: 3 * GB)
    with pytest.raises(ConfigError) as exc:
        PROBLEMS.build(config, rng=np.random.default_rng(0), **context)
    assert re.search(match, _one_line(exc)), _one_line(exc)


def test_check_memory_and_available_memory():
    avail = resources.available_memory()
    assert avail is None or avail > 0
    resources.check_memory("a small array", 8.0)
    if avail is not None:
        with pytest.raises(ConfigError) as exc:
            resources.check_memory("G (an n × d float64 array)", 2.0 * avail)
        msg = _one_line(exc)
        assert msg.startswith("G (an n × d float64 array) needs about ") and msg.endswith(" available")
    assert resources.format_bytes(8e9) == "8.0 GB" and resources.format_bytes(5e7) == "50.0 MB"
    assert resources.largest_fitting(lambda v: 8 * v, 1, 10**30, 800) == 100
    assert resources.largest_fitting(lambda v: 8 * v, 1, 10, 4) is None


def test_memory_refusal_happens_before_any_allocation(monkeypatch):
    # With 1 MB "available", a quadratic of d = 2000 (8·(6d² + 5nd) bytes, about 0.19 GB) fails fast.
    monkeypatch.setattr(resources, "available_memory", lambda: 10**6)
    with pytest.raises(
        ConfigError,
        match=r"needs about 0\.2 GB of memory; this machine has 1\.0 MB available; allowed: d ≤ 142 at n = 4",
    ):
        PROBLEMS.build({"name": "quadratic", "d": 2000}, rng=np.random.default_rng(0), n=4)


def test_gzip_libsvm_still_reads(tmp_path):
    gz = tmp_path / "t.svm.gz"
    with gzip.open(gz, "wt") as fh:
        fh.write("+1 1:1.5 2:2\n-1 2:-1\n")
    np.testing.assert_array_equal(load_libsvm(gz).A, [[1.5, 2.0], [0.0, -1.0]])
