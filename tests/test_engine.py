"""The engine pinned to the algorithms' update rules (recursions written out by hand here)."""

import json
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
from reference import engine as ref

from byzref.config import build
from byzref.engine import run
from byzref.errors import ConfigError
from problems.quadratic import Quadratic


def _quadratic_arrays(n=5, d=6, seed=3):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    A = (Q.T * np.linspace(0.2, 1.0, d)) @ Q
    A = (A + A.T) / 2
    b = rng.standard_normal((n, d))
    x0 = 3.0 * rng.standard_normal(d)
    return A, b, x0


def _cfg(alg, T=50, n=5, f=0, **extra):
    cfg = {"seed": 1, "n": n, "f": f, "T": T, "problem": {"name": "quadratic", "d": 6, "sigma2": 0.0},
           "algorithm": alg, "record": {"every": 1}}
    cfg.update(extra)
    return cfg


def _run_on(problem, cfg):
    spec = build(cfg)
    return run(replace(spec, problem=problem))


def _hand(A, b, x0, T, gamma, update):
    """x^{t+1} = x^t − γ mean_i g_i^t; returns ‖∇f(x^t)‖², t = 0..T. ``update(state, grads) -> rows``."""
    grad_i = lambda x: (x[None, :] - b) @ A  # noqa: E731  rows A(x − b_i), A symmetric
    x = x0.copy()
    state = {}
    rows = update(state, grad_i(x), init=True)
    out = []
    for _ in range(T):
        gx = A @ (x - b.mean(axis=0))
        out.append(gx @ gx)
        x = x - gamma * rows.mean(axis=0)
        rows = update(state, grad_i(x), init=False)
    gx = A @ (x - b.mean(axis=0))
    out.append(gx @ gx)
    return np.array(out)


def _dm21(eta, eta2):
    def update(s, g, init):
        if init:
            s["v"], s["u"], s["g"] = g.copy(), g.copy(), g.copy()
        else:
            s["v"] = (1 - eta) * s["v"] + eta * g
            s["u"] = (1 - eta2) * s["u"] + eta2 * s["v"]
            s["g"] = s["g"] + (s["u"] - s["g"])  # identity compressor
        return s["g"]
    return update


def _vr_dm21(eta, eta2):
    def update(s, g, init):
        # σ = 0: ∇f_i(x^{t+1}; ξ) − ∇f_i(x^t; ξ) is the exact difference of full gradients
        if init:
            s["v"], s["u"], s["g"], s["prev"] = g.copy(), g.copy(), g.copy(), g.copy()
        else:
            s["v"] = g + (1 - eta) * (s["v"] - s["prev"])
            s["u"] = (1 - eta2) * s["u"] + eta2 * s["v"]
            s["g"] = s["g"] + (s["u"] - s["g"])
            s["prev"] = g.copy()
        return s["g"]
    return update


def _vr_dm21_released(eta, eta2):
    inner = _vr_dm21(eta, eta2)

    def update(s, g, init):
        if init:  # released-code init: v⁰ = η s, u⁰ = η v⁰, g⁰ = C(u⁰) (identity C)
            s["v"] = eta * g
            s["u"] = eta * s["v"]
            s["g"] = s["u"].copy()
            s["prev"] = g.copy()
            return s["g"]
        return inner(s, g, init)
    return update


def _ef21_sgdm(eta):
    def update(s, g, init):
        if init:
            s["v"], s["g"] = g.copy(), g.copy()
        else:
            s["v"] = (1 - eta) * s["v"] + eta * g
            s["g"] = s["g"] + (s["v"] - s["g"])
        return s["g"]
    return update


def _ef21(s, g, init):
    s["g"] = g.copy() if init else s["g"] + (g - s["g"])
    return s["g"]


@pytest.mark.parametrize(
    ("alg", "update"),
    [
        ({"name": "byz_dm21", "gamma": 0.3, "eta": 0.2, "eta2": 0.5}, _dm21(0.2, 0.5)),
        ({"name": "dm21", "gamma": 0.3, "eta": 0.3}, _dm21(0.3, 0.3)),
        ({"name": "byz_vr_dm21", "gamma": 0.3, "eta": 0.2, "eta2": 0.4}, _vr_dm21(0.2, 0.4)),
        ({"name": "byz_vr_dm21", "gamma": 0.3, "eta": 0.5, "eta2": 0.4, "init": "released"},
         _vr_dm21_released(0.5, 0.4)),
        ({"name": "byz_dm21", "gamma": 0.3, "eta": 0.2, "eta2": 0.4, "variant": "released"},
         _vr_dm21(0.2, 0.4)),
        ({"name": "byz_ef21_sgdm", "gamma": 0.3, "eta": 0.25}, _ef21_sgdm(0.25)),
        ({"name": "ef21_sgdm", "gamma": 0.3, "eta": 0.25}, _ef21_sgdm(0.25)),
        ({"name": "byz_ef21", "gamma": 0.3}, _ef21),
        ({"name": "ef21", "gamma": 0.3}, _ef21),
        ({"name": "byz_ef21_sgd", "gamma": 0.3}, _ef21),
    ],
)
def test_ef21_family_reproduces_hand_recursion(alg, update):
    A, b, x0 = _quadratic_arrays()
    prob = Quadratic.from_arrays(A, b, f=0, sigma2=0.0, x0=x0)
    res = _run_on(prob, _cfg(alg))
    expected = _hand(A, b, x0, 50, alg["gamma"], update)
    assert res.status == "ok"
    np.testing.assert_allclose(res.curves["grad_sq"], expected, rtol=1e-12, atol=1e-300)
    assert res.curves["grad_sq"][-1] < 1e-2 * res.curves["grad_sq"][0]  # it moved


def _curves(cfg):
    return run(cfg).curves


@pytest.mark.parametrize("eta_name", ["byz_dm21", "byz_ef21_sgdm"])
def test_eta_one_reduces_to_byz_ef21_sgd(eta_name):
    base = {"seed": 4, "n": 9, "f": 2, "T": 60, "record": {"every": 1},
            "problem": {"name": "nonconvex_synthetic", "d": 12, "sigma2": 0.5, "zeta2": 0.3},
            "compressor": {"name": "top_k", "k": 3}, "aggregator": "cwtm", "attack": {"name": "alie"}}
    a = _curves({**base, "algorithm": {"name": eta_name, "gamma": 0.1, "eta": 1.0}})
    b = _curves({**base, "algorithm": {"name": "byz_ef21_sgd", "gamma": 0.1}})
    np.testing.assert_array_equal(a["grad_sq"], b["grad_sq"])
    np.testing.assert_array_equal(a["bits_up"], b["bits_up"])


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("vr", [False, True])
def test_engine_equals_numpy_reference(vr, fast):
    cfg = {"seed": 2, "n": 10, "f": 3, "T": 120, "record": {"every": 1},
           "problem": {"name": "nonconvex_synthetic", "d": 20, "sigma2": 0.5, "zeta2": 0.5},
           "algorithm": {"name": "byz_vr_dm21" if vr else "byz_dm21", "gamma": 0.05, "eta": 0.3, "eta2": 0.6},
           "compressor": {"name": "top_k", "k": 4}, "aggregator": "cwtm", "attack": {"name": "alie"}}
    res = run(cfg, fast=fast)
    expected = ref.byz_dm21(build(cfg).problem, 120, 0.05, 0.3, 0.6, 4, seed=2, vr=vr)
    np.testing.assert_allclose(res.curves["grad_sq"], expected, rtol=1e-10)


EASY = {"seed": 0, "n": 6, "f": 0, "T": 400,
        "problem": {"name": "quadratic", "d": 10, "L": 1.0, "mu": 0.5, "zero_eigs": 0, "sigma2": 1e-8}}


@pytest.mark.parametrize(
    ("alg", "comp"),
    [
        ({"name": "byz_dm21", "gamma": 0.5, "eta": 0.5}, {"name": "top_k", "k": 3}),
        ({"name": "byz_vr_dm21", "gamma": 0.5, "eta": 0.5}, {"name": "top_k", "k": 3}),
        ({"name": "dm21", "gamma": 0.5, "eta": 0.5}, {"name": "top_k", "k": 3}),
        ({"name": "byz_ef21_sgdm", "gamma": 0.5, "eta": 0.5}, {"name": "top_k", "k": 3}),
        ({"name": "ef21_sgdm", "gamma": 0.5, "eta": 0.5}, {"name": "top_k", "k": 3}),
        ({"name": "byz_ef21", "gamma": 0.5}, {"name": "top_k", "k": 3}),
        ({"name": "ef21", "gamma": 0.5}, {"name": "top_k", "k": 3}),
        ({"name": "byz_ef21_sgd", "gamma": 0.5}, {"name": "top_k", "k": 3}),
        ({"name": "byz_vr_marina", "gamma": 0.2, "p": 0.2}, {"name": "rand_k", "k": 5}),
        ({"name": "byz_dasha_page", "gamma": 0.2, "p": 0.2}, {"name": "rand_k", "k": 5}),
        ({"name": "robust_momentum_sgd", "gamma": 0.5, "beta": 0.5}, {"name": "identity"}),
        ({"name": "br_csgd", "gamma": 0.2}, {"name": "natural"}),
        ({"name": "br_diana", "gamma": 0.2}, {"name": "rand_k", "k": 5}),
    ],
)
def test_every_method_converges_on_an_easy_problem(alg, comp):
    res = run({**EASY, "algorithm": alg, "compressor": comp})
    g = res.curves["grad_sq"]
    assert res.status == "ok"
    assert g[-1] <= 1e-2 * g[0], (alg["name"], g[0], g[-1])


def test_deterministic_in_process_and_across_processes(tmp_path):
    cfg = {"seed": 5, "n": 10, "f": 2, "T": 200,
           "problem": {"name": "nonconvex_synthetic", "d": 15, "sigma2": 1.0, "zeta2": 0.2},
           "algorithm": {"name": "byz_vr_dm21", "gamma": 0.05, "eta": 0.2},
           "compressor": {"name": "rand_k_biased", "k": 4}, "aggregator": "bucketing(s=2)+cwmed",
           "attack": {"name": "gaussian"}}
    a, b = run(cfg), run(cfg)
    for key in a.curves:
        np.testing.assert_array_equal(a.curves[key], b.curves[key])
    cfg_path = tmp_path / "cfg.json"
    cfg_path.write_text(json.dumps(cfg))
    code = ("import json, sys, numpy as np; from byzref.engine import run; "
            "r = run(json.load(open(sys.argv[1]))); np.save(sys.argv[2], r.curves['grad_sq'])")
    out = tmp_path / "g.npy"
    subprocess.run([sys.executable, "-c", code, str(cfg_path), str(out)], check=True)
    np.testing.assert_array_equal(np.load(out), a.curves["grad_sq"])


def test_common_random_numbers_across_algorithms():
    """Same seed ⇒ same problem instance and same first stochastic gradients for two methods."""
    base = {"seed": 9, "n": 4, "T": 1, "record": {"every": 1},
            "problem": {"name": "nonconvex_synthetic", "d": 5, "sigma2": 1.0}}
    a = run({**base, "algorithm": {"name": "byz_ef21_sgd", "gamma": 0.1}})
    b = run({**base, "algorithm": {"name": "byz_dm21", "gamma": 0.1, "eta": 0.5}})
    # x¹ = x⁰ − γ mean_i ∇f_i(x⁰; ξ⁰) for both (identical init rows)
    assert a.curves["grad_sq"][1] == b.curves["grad_sq"][1]


def test_divergence_is_recorded_not_raised():
    cfg = {**EASY, "T": 500, "algorithm": {"name": "byz_ef21", "gamma": 50.0}, "record": {"every": 1}}
    res = run(cfg)
    assert res.status == "diverged"
    t = res.diverged_at
    assert 0 < t < 500
    assert res.curves["iteration"][-1] == t
    assert np.isfinite(res.curves["grad_sq"][:-1]).all()
    assert len(res.curves["grad_sq"]) == t + 1  # every iterate up to the divergence was kept


@pytest.mark.parametrize(
    ("patch", "match"),
    [
        ({"algorithm": {"name": "byz_dm2l", "gamma": 0.1, "eta": 0.1}}, r"did you mean 'byz_dm21'"),
        ({"aggregator": "cwmed", "f": 3}, r"f = 3 .*n = 6"),
        ({"compressor": {"name": "top_k", "k": 11}}, r"k = 11 .*\[1, 10\]"),
        ({"algorithm": {"name": "byz_dm21", "gamma": 0.1, "eta": 1.5}}, r"eta = 1.5 .*\(0, 1\]"),
        ({"algorithm": {"name": "byz_dm21", "gamma": 0.1, "eta": 0.0}}, r"eta = 0.0 .*\(0, 1\]"),
        ({"algorithm": {"name": "byz_dm21", "gamma": 0.0, "eta": 0.5}}, r"gamma = 0.0 .*\(0, inf\)"),
        ({"T": 0}, r"T = 0 .*\[1, inf\]"),
        ({"algorithm": {"name": "byz_vr_marina", "gamma": 0.1}, "compressor": {"name": "top_k", "k": 2}},
         r"needs an unbiased compressor"),
        ({"algorithm": {"name": "byz_dm21", "gamma": 0.1, "eta": 0.5},
          "compressor": {"name": "rand_k", "k": 2}},
         r"needs a contractive compressor"),
        ({"attack": {"name": "alie", "target": "both"}}, r"attack.target"),
        ({"algorithm": {"name": "dm21", "gamma": 0.1, "eta": 0.5}, "f": 1}, r"non-Byzantine preset"),
        ({"attack": {"name": "label_flip"}, "f": 1}, r"needs a problem with labels"),
        ({"attack": {"name": "mimic", "i": 5}, "f": 2}, r"mimic i = 5 is outside the good rows \[0, 3\]"),
        ({"attack": {"name": "alie"}, "f": 5, "aggregator": "mean"}, r"n - f >= 2|n = 6, f = 5"),
    ],
)
def test_bad_configs_fail_before_work(patch, match):
    cfg = {**EASY, "algorithm": {"name": "byz_dm21", "gamma": 0.1, "eta": 0.5}, **patch}
    with pytest.raises(ConfigError, match=match):
        build(cfg)


@pytest.mark.parametrize("attack", ["none", "bit_flip", "sign_flip", "ipm", "alie"])
def test_message_target_runs_and_none_equals_honest(attack):
    base = {"seed": 3, "n": 7, "f": 2, "T": 80, "record": {"every": 1},
            "problem": {"name": "nonconvex_synthetic", "d": 10, "sigma2": 0.3},
            "algorithm": {"name": "byz_dm21", "gamma": 0.1, "eta": 0.3},
            "compressor": {"name": "top_k", "k": 3}, "aggregator": "cwtm"}
    res = run({**base, "attack": {"name": attack, "target": "message"}})
    assert res.status == "ok"
    if attack == "none":
        # "none": the Byzantine workers follow the protocol, under either target
        state = run({**base, "attack": {"name": "none", "target": "state"}})
        np.testing.assert_array_equal(res.curves["grad_sq"], state.curves["grad_sq"])


def test_bit_flip_state_is_minus_honest_state():
    """With bit_flip on the state, mean aggregation sees (good − own)/n: with f Byzantine shards equal to
    good ones, f = 1 of n = 2 cancels the update exactly, so x never moves."""
    A, b, x0 = _quadratic_arrays(n=2)
    b[1] = b[0]
    prob = Quadratic.from_arrays(A, b, f=1, sigma2=0.0, x0=x0)
    cfg = {**_cfg({"name": "byz_ef21", "gamma": 0.3}, n=2, f=1, T=20), "attack": "bit_flip"}
    res = _run_on(prob, cfg)
    assert np.all(res.curves["grad_sq"] == res.curves["grad_sq"][0])


COMPILED_BASE = {"seed": 6, "n": 11, "f": 3, "T": 150, "record": {"every": 1},
              "problem": {"name": "nonconvex_synthetic", "d": 17, "sigma2": 1.0, "zeta2": 0.3}}


@pytest.mark.parametrize(
    "alg",
    [{"name": "byz_dm21", "gamma": 0.1, "eta": 0.2, "eta2": 0.5},
     {"name": "byz_dm21", "gamma": 0.1, "eta": 0.2, "variant": "released"},
     {"name": "byz_vr_dm21", "gamma": 0.1, "eta": 0.2, "eta2": 0.5},
     {"name": "byz_ef21_sgdm", "gamma": 0.1, "eta": 0.2},
     {"name": "byz_ef21_sgd", "gamma": 0.05, "batch": 3}],
)
@pytest.mark.parametrize(
    ("comp", "agg", "attack"),
    [({"name": "top_k", "k": 4}, "cwtm", {"name": "alie"}),
     ({"name": "identity"}, "mean", {"name": "sign_flip"}),
     ({"name": "top_k", "k": 1}, "cwmed", {"name": "ipm", "eps": 0.5})],
)
def test_compiled_loop_is_bit_identical_to_python_loop(alg, comp, agg, attack):
    """Second momentum ≠ first, the released variant, minibatches (the registry-wide matrix is in
    test_compiled_conformance.py)."""
    cfg = {**COMPILED_BASE, "algorithm": alg, "compressor": comp, "aggregator": agg, "attack": attack}
    a, b = run(cfg, fast=True), run(cfg, fast=False)
    assert a.curves.keys() == b.curves.keys()
    for key in a.curves:
        np.testing.assert_array_equal(a.curves[key], b.curves[key], err_msg=key)
    assert a.summary == b.summary


def test_compiled_loop_divergence_matches_python_loop():
    cfg = {**COMPILED_BASE, "T": 400, "algorithm": {"name": "byz_ef21_sgd", "gamma": 3.0}, "attack": "ipm",
           "record": {"log": 20, "diverge_at": 1e8}}
    a, b = run(cfg, fast=True), run(cfg, fast=False)
    assert a.status == b.status == "diverged"
    assert a.diverged_at == b.diverged_at
    for key in a.curves:
        np.testing.assert_array_equal(a.curves[key], b.curves[key], err_msg=key)


def test_a_component_without_a_kernel_runs_in_the_python_loop():
    """fast=None falls back to the reference loop for a component with no kernel; fast=True refuses it."""
    from byzref.compressors.top_k import TopK

    class NoKernelTopK(TopK):  # a user's compressor that defines the map but no kernel
        name = "no_kernel_top_k"

        def kernel(self, n, d):
            raise NotImplementedError("compressor 'no_kernel_top_k' has no kernel")

    cfg = {**COMPILED_BASE, "T": 30, "algorithm": {"name": "byz_dm21", "gamma": 0.1, "eta": 0.2},
           "compressor": {"name": "top_k", "k": 3}, "aggregator": "cwtm", "attack": "alie"}
    spec = replace(build(cfg), compressor=NoKernelTopK(k=3))
    with pytest.raises(ConfigError, match=r"cannot run compiled.*no_kernel_top_k' has no kernel"):
        run(spec, fast=True)
    with pytest.MonkeyPatch.context() as mp:  # asked for through the environment: refused the same way
        mp.setenv("BYZREF_ENGINE", "compiled")
        with pytest.raises(ConfigError, match=r"cannot run compiled.*no_kernel_top_k' has no kernel") as exc:
            run(spec)
        assert "\n" not in str(exc.value)
    a, b = run(spec), run(build(cfg))
    for key in a.curves:
        np.testing.assert_array_equal(a.curves[key], b.curves[key], err_msg=key)


@pytest.mark.parametrize("alg", [{"name": "byz_dm21", "gamma": 0.5, "eta": 0.3},
                                 {"name": "byz_ef21", "gamma": 0.5}])
def test_label_flip_is_the_protocol_on_flipped_labels(alg):
    """label_flip == the Byzantine workers following the protocol on their shards with y → −y."""
    from problems.logreg_nonconvex import LogregNonconvex

    rng = np.random.default_rng(0)
    n, f, per = 6, 2, 15
    A = rng.standard_normal((n * per, 4))
    y = np.where(rng.random(n * per) < 0.5, -1.0, 1.0)
    counts = np.full(n, per)
    y_flipped = y.copy()
    y_flipped[(n - f) * per:] *= -1
    base = {"seed": 2, "n": n, "f": f, "T": 40, "record": {"every": 1}, "aggregator": "cwtm",
            "problem": {"name": "logreg_nonconvex", "data": "synthetic", "d": 4}, "algorithm": alg,
            "compressor": {"name": "top_k", "k": 2}}
    a = _run_on(LogregNonconvex.from_arrays(A, y, counts, f=f), {**base, "attack": "label_flip"})
    b = _run_on(LogregNonconvex.from_arrays(A, y_flipped, counts, f=f), {**base, "attack": "none"})
    np.testing.assert_allclose(a.curves["grad_sq"], b.curves["grad_sq"], rtol=1e-12)
    c = _run_on(LogregNonconvex.from_arrays(A, y, counts, f=f), {**base, "attack": "none"})
    assert not np.allclose(a.curves["grad_sq"], c.curves["grad_sq"])


def test_compiled_loop_large_d_top_k_is_bit_identical():
    """d ≥ 4096 takes top_k's sampled threshold inside the compiled loop; still the Python loop's result."""
    cfg = {"seed": 3, "n": 6, "f": 1, "T": 6, "record": {"every": 1},
           "problem": {"name": "nonconvex_synthetic", "d": 5000, "sigma2": 1.0, "zeta2": 0.5},
           "algorithm": {"name": "byz_dm21", "gamma": 0.1, "eta": 0.3},
           "compressor": {"name": "top_k", "k": 50},
           "aggregator": "cwmed", "attack": "alie"}
    a, b = run(cfg, fast=True), run(cfg, fast=False)
    for key in a.curves:
        np.testing.assert_array_equal(a.curves[key], b.curves[key], err_msg=key)


def test_auto_engine_compiles_what_repays_it(tmp_path, monkeypatch):
    """"auto": a short run of a new combination stays in Python; once compiled, the combination runs
    compiled; the numbers are the same whichever loop runs."""
    import byzref.compiled as compiled

    monkeypatch.setenv("BYZREF_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("BYZREF_ENGINE", raising=False)
    calls = []
    advance = compiled.CompiledRun.advance
    monkeypatch.setattr(compiled.CompiledRun, "advance",
                        lambda self, *a: calls.append(1) or advance(self, *a))
    cfg = {**COMPILED_BASE, "T": 40, "algorithm": {"name": "byz_ef21_sgd", "gamma": 0.05},
           "compressor": {"name": "rand_k_biased", "k": 3}, "aggregator": "cwmed", "attack": "ipm"}
    a = run(cfg)  # about 40 × 100 µs in Python: far less than compiling
    assert calls == [] and not list(tmp_path.glob("*.py"))
    monkeypatch.setattr(compiled, "COMPILE_SECONDS", 0.0)  # now every run repays compiling
    b = run(cfg)
    assert calls and len(list(tmp_path.glob("*.ready"))) == 1
    monkeypatch.setattr(compiled, "COMPILE_SECONDS", 1e9)
    calls.clear()
    c = run(cfg)  # compiled before on this machine: compiled again, however short
    assert calls
    monkeypatch.setenv("BYZREF_ENGINE", "python")
    calls.clear()
    d = run(cfg)
    assert calls == []
    for key in a.curves:
        for other in (b, c, d):
            np.testing.assert_array_equal(other.curves[key], a.curves[key], err_msg=key)


def test_engine_choice_names_the_variable_and_the_allowed_values(monkeypatch):
    monkeypatch.setenv("BYZREF_ENGINE", "jit")
    cfg = {**COMPILED_BASE, "T": 5, "algorithm": {"name": "byz_ef21", "gamma": 0.05}}
    want = r"^BYZREF_ENGINE = 'jit' is not allowed; allowed values: auto, compiled, python$"
    with pytest.raises(ConfigError, match=want):
        run(cfg)


def test_a_subclass_that_changes_the_maths_does_not_run_its_parents_kernel():
    """A compressor subclass overriding _compress (not kernel) runs in the Python loop, with its own maths."""
    from byzref.compressors.identity import Identity

    class Half(Identity):  # a user's variant: C(x) = x / 2, no kernel of its own
        name = "half"

        def _compress(self, X, rng):
            return 0.5 * X

    cfg = {**COMPILED_BASE, "T": 20, "algorithm": {"name": "byz_ef21", "gamma": 0.05}, "aggregator": "mean",
           "attack": "sign_flip"}
    spec = replace(build(cfg), compressor=Half())
    with pytest.raises(ConfigError, match=r"cannot run compiled: no kernel that computes what half computes"):
        run(spec, fast=True)
    ours, plain = run(spec), run(build(cfg), fast=False)
    assert not np.array_equal(ours.curves["grad_sq"], plain.curves["grad_sq"])
    np.testing.assert_array_equal(ours.curves["grad_sq"], run(spec, fast=False).curves["grad_sq"])


def test_every_registered_component_has_a_kernel_that_covers_it():
    """No built-in component falls back to the Python loop (a subclass that redefines the maths needs its
    own kernel: byz_vr_dm21 declares the shared one)."""
    from byzref.aggregators.base import AGGREGATORS, PRE_AGGREGATORS
    from byzref.algorithms.base import ALGORITHMS
    from byzref.attacks.base import ATTACKS
    from byzref.compressors.base import COMPRESSORS
    from byzref.kernels import kernel_covers
    from problems.registry import PROBLEMS

    for registry in (COMPRESSORS, AGGREGATORS, PRE_AGGREGATORS, ATTACKS, ALGORITHMS, PROBLEMS):
        for name in registry.names():
            cls = registry.get(name)
            assert kernel_covers(cls.__new__(cls)), name
