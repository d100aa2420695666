"""Protocol "released": byzref's run equals a transcription of the Byz-DM21 authors' simulator.

The transcription (:func:`authors_loop`) is written here from the authors' update rules
(arXiv:2603.15144; their released ``simulator.py``, ``server.py``, ``worker.py``, ``worker_lr.py`` and
the attack files ``xie.py``, ``signflipping.py``) in their own terms: momentum β = 1 − η, rounds
r = 0, 1, …, a worker state (top, second, grads), a stored row ``first`` (g before the update) and a
message ``diff`` per round, and a server that adds each message to a stored row. It shares with byzref
only the problem instance and the random streams (samples, attack); top-k, the aggregators and every
update rule are written out with plain NumPy.
"""

from __future__ import annotations

import numpy as np
import pytest

from byzref import rng as rngmod
from byzref.attacks import ATTACKS
from byzref.attacks.base import AttackContext
from byzref.config import build, normalize, run_id
from byzref.engine import _Simulation, run
from byzref.errors import ConfigError

N, D, K = 5, 6, 2


def _cfg(alg: dict, f: int = 0, attack=None, aggregator="mean", T: int = 25, batch: int = 2) -> dict:
    return {"seed": 3, "n": N, "f": f, "T": T, "protocol": "released",
            "problem": {"name": "quadratic", "d": D, "zero_eigs": 1, "zeta2": 0.5, "sigma2": 0.4},
            "algorithm": {**alg, "batch": batch}, "compressor": {"name": "top_k", "k": K},
            "aggregator": aggregator, "attack": attack or {"name": "none"}, "record": {"every": 1}}


DM21 = {"name": "byz_dm21", "gamma": 0.2, "eta": 0.3, "variant": "released"}
VR_DM21 = {"name": "byz_vr_dm21", "gamma": 0.2, "eta": 0.3, "init": "released"}
EF21_SGDM = {"name": "byz_ef21_sgdm", "gamma": 0.2, "eta": 0.3}


# --- the transcription ---------------------------------------------------------------------------
def top_k(X: np.ndarray, k: int = K) -> np.ndarray:
    """Keep the k entries of largest magnitude in every row (torch.topk on |x|)."""
    out = np.zeros_like(X)
    for i, row in enumerate(np.atleast_2d(X)):
        idx = np.argsort(-np.abs(row), kind="stable")[:k]
        out.reshape(-1, X.shape[-1])[i, idx] = row[idx]
    return out


def authors_loop(cfg: dict, rounds: int) -> list[np.ndarray]:
    """The authors' iterates x¹, …, x^rounds (x^{r+1} = x^r − γ·Agg(rows of round r)).

    Worker (β = 1 − η), round 0: DoubleMomentumWorker top = second = grads = s, diff = 0;
    VRDoubleMomentumWorker top = (1−β)s, second = (1−β)top, grads = C(second), diff = grads;
    worker_lr TopMomentumWorker top = s(1−β), grads = C(top), diff = 0; first = 0. Round r ≥ 1:
    top ← βtop + (1−β)s + β(s − s_snap) (DM workers; s_snap on the same batch at the previous model)
    or βtop + (1−β)s (TopMomentum); second ← βsecond + (1−β)top (DM); first = grads;
    diff = C(second or top − grads); grads += diff. Server: good row = first + diff; every
    Byzantine row = first of the last good worker + attack message; IPM's message is
    C(−ε·mean(diff)), the sign flip's −diff_j for a random good j. Aggregator: mean or coordinate
    median.
    """
    prob = build(cfg).problem
    n, f = cfg["n"], cfg["f"]
    m = n - f
    alg = cfg["algorithm"]
    name, beta, gamma = alg["name"], 1.0 - alg["eta"], alg["gamma"]
    samples = rngmod.stream(cfg["seed"], "samples")
    att_rng = rngmod.stream(cfg["seed"], "attack")
    attack = cfg["attack"]
    x = np.array(prob.x0(), dtype=np.float64)
    x_snap = x.copy()
    xs = []
    for r in range(rounds):
        xi = prob.draw(samples, alg["batch"])
        s = prob.stoch_grads(x, xi)[:m].copy()
        s_snap = prob.stoch_grads(x_snap, xi)[:m].copy()
        if r == 0:
            first = np.zeros((m, D))
            if name == "byz_dm21":
                top, second, grads = s.copy(), s.copy(), s.copy()
                diff = np.zeros((m, D))
            elif name == "byz_vr_dm21":
                top = s * (1 - beta)
                second = (1 - beta) * top
                grads = top_k(second)
                diff = grads.copy()
            else:
                top = s * (1 - beta)
                grads = top_k(top)
                diff = np.zeros((m, D))
        else:
            if name == "byz_ef21_sgdm":
                top = top * beta + s * (1 - beta)
                target = top
            else:
                top = top * beta + s * (1 - beta) + beta * (s - s_snap)
                second = second * beta + top * (1 - beta)
                target = second
            diff = top_k(target - grads)
            first = grads.copy()
            grads = grads + diff
        x_snap = x.copy()  # model_snap is loaded after the gradient, before the server's step
        rows = [first[i] + diff[i] for i in range(m)]
        for _ in range(f):
            if attack["name"] == "ipm":
                msg = top_k(-attack.get("eps", 0.1) * diff.sum(axis=0) / m)
            elif attack["name"] == "sign_flip":
                msg = -diff[att_rng.integers(0, m)]
            else:
                raise AssertionError(attack)
            rows.append(first[m - 1] + msg)
        G = np.array(rows)
        agg = G.mean(axis=0) if cfg["aggregator"] == "mean" else np.median(G, axis=0)
        x = x - gamma * agg
        xs.append(x.copy())
    return xs


def byzref_iterates(cfg: dict) -> list[np.ndarray]:
    """Every x_new that byzref's Python loop passes to the method's step, in order, and the result."""
    sim = _Simulation(build(cfg), fast=False)
    seen = [sim.x.copy()] if sim.alg.released_round0 == "dead" else []  # round 1 ran at x⁰ in __init__
    step = sim.alg.step

    def spy(blk, x_new, x_old, g_hat, comp):
        seen.append(np.array(x_new, copy=True))
        return step(blk, x_new, x_old, g_hat, comp)

    sim.alg.step = spy
    sim.run_python()
    return seen


def _compare(cfg: dict) -> None:
    mine = byzref_iterates(cfg)
    # dead round 0: the authors' x^{t+1} is byzref's x^t (x¹ = x⁰); live round 0: no shift
    dead = build(cfg).algorithm.released_round0 == "dead"
    theirs = authors_loop(cfg, cfg["T"] + 1 if dead else cfg["T"])
    assert len(mine) == len(theirs)
    np.testing.assert_allclose(np.array(mine), np.array(theirs), rtol=1e-12, atol=1e-13)
    # the iterates move, and the first one is x⁰ exactly after a dead round
    assert not np.allclose(theirs[-1], theirs[0])
    if dead:
        np.testing.assert_array_equal(theirs[0], np.asarray(build(cfg).problem.x0()))


@pytest.mark.parametrize("alg", [DM21, VR_DM21, EF21_SGDM], ids=lambda a: a["name"])
def test_f0_equals_authors_loop(alg):
    _compare(_cfg(alg))


@pytest.mark.parametrize("alg", [DM21, VR_DM21, EF21_SGDM], ids=lambda a: a["name"])
def test_ipm_f1_equals_authors_loop(alg):
    _compare(_cfg(alg, f=1, attack={"name": "ipm", "eps": 0.5}, aggregator="cwmed"))


def test_released_sign_flip_equals_authors_loop():
    _compare(_cfg(DM21, f=2, attack={"name": "sign_flip", "form": "released"}, aggregator="cwmed", batch=1))


def test_ef21_sgdm_worker_lr_init():
    """v⁻¹ = η s, g⁻¹ = C(v⁻¹) kept by the worker (never sent), then one momentum + EF21 step at x⁰."""
    cfg = _cfg(EF21_SGDM, T=1)
    sim = _Simulation(build(cfg), fast=False)
    prob, eta = sim.prob, cfg["algorithm"]["eta"]
    samples = rngmod.stream(cfg["seed"], "samples")
    x0 = np.asarray(prob.x0())
    s_a = prob.stoch_grads(x0, prob.draw(samples, 2))[:N]
    s_b = prob.stoch_grads(x0, prob.draw(samples, 2))[:N]
    v_init = eta * s_a
    g_init = top_k(v_init)
    v0 = (1 - eta) * v_init + eta * s_b
    g0 = g_init + top_k(v0 - g_init)
    np.testing.assert_allclose(sim.good.state["v"], v0, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(sim.G, g0, rtol=1e-14, atol=1e-15)
    np.testing.assert_array_equal(sim.x, x0)
    assert sim.cum_up == sim.comp.bits(D)  # round 0 is not counted; round 1 is one compressed message


def test_released_sign_flip_form():
    """−h_j for j = rng.integers(0, n − f, f): one random good row per Byzantine row, each negated."""
    attack = ATTACKS.build({"name": "sign_flip", "form": "released"})
    H = np.arange(12.0).reshape(4, 3)
    out = attack(H, AttackContext(n=7, f=3), np.random.default_rng(5))
    idx = np.random.default_rng(5).integers(0, 4, size=3)
    np.testing.assert_array_equal(out, -H[idx])
    assert len(set(idx.tolist())) > 1  # the rows differ: each Byzantine worker draws its own
    with pytest.raises(ConfigError, match="needs an rng"):
        attack(H, AttackContext(n=7, f=3), None)
    assert ATTACKS.build({"name": "sign_flip"}).params() == {}  # the default form stays out of run ids


# --- engine routing -------------------------------------------------------------------------------
def test_released_runs_in_python_loop_only(monkeypatch):
    cfg = _cfg(DM21, f=1, attack={"name": "ipm"}, aggregator="cwmed", T=5)
    monkeypatch.setenv("BYZREF_ENGINE", "auto")
    assert _Simulation(build(cfg), None).loop is None
    assert run(cfg).status in ("ok", "stalled")
    with pytest.raises(ConfigError, match=r"cannot run compiled: protocol = 'released'") as exc:
        run(cfg, fast=True)
    assert "\n" not in str(exc.value)
    monkeypatch.setenv("BYZREF_ENGINE", "compiled")
    with pytest.raises(ConfigError, match=r"cannot run compiled: protocol = 'released'"):
        run(cfg)
    monkeypatch.setenv("BYZREF_ENGINE", "python")
    assert run(cfg).curves["grad_sq"].shape == (6,)


# --- configuration ----------------------------------------------------------------------------------
def test_default_protocol_keeps_canonical_form_and_id():
    cfg = {k: v for k, v in _cfg(EF21_SGDM).items() if k != "protocol"}
    plain = normalize(cfg)
    assert "protocol" not in plain
    assert normalize({**cfg, "protocol": "byzref"}) == plain
    released = normalize({**cfg, "protocol": "released"})
    assert released["protocol"] == "released" and released["attack"]["target"] == "released"
    assert run_id(released) != run_id(plain)


@pytest.mark.parametrize(("change", "match"), [
    ({"protocol": "paper"}, r"protocol = 'paper' is not allowed; valid values: 'byzref', 'released'"),
    ({"algorithm": {"name": "byz_vr_marina", "gamma": 0.1, "p": 0.5}},
     r"algorithm 'byz_vr_marina' is not supported under protocol = 'released'; allowed: byz_dm21"),
    ({"algorithm": {"name": "byz_dm21", "gamma": 0.1, "eta": 0.3}},
     r"algorithm.variant = 'paper' is not supported .*allowed: 'released'"),
    ({"algorithm": {"name": "byz_vr_dm21", "gamma": 0.1, "eta": 0.3}},
     r"algorithm.init = 'paper' is not supported .*allowed: 'released'"),
    ({"f": 1, "attack": {"name": "label_flip"}}, r"attack 'label_flip' is not supported"),
    ({"f": 1}, r"attack 'none' with f = 1 is not supported .*allowed: f = 0"),
    ({"f": 1, "attack": {"name": "sign_flip"}}, r"form = 'mean' is not supported .*form = 'released'"),
    ({"f": 1, "attack": {"name": "alie", "sign": 1}}, r"attack alie with sign = 1.* allowed: sign = -1"),
    ({"f": 1, "attack": {"name": "ipm", "target": "message"}},
     r"attack.target = 'message' is not supported under protocol = 'released'; allowed: 'released'"),
    ({"protocol": "byzref", "f": 1, "attack": {"name": "ipm", "target": "released"}},
     r"attack.target = 'released' needs protocol = 'released'"),
    ({"attack": {"name": "sign_flip", "form": "random"}}, r"form = 'random' is not allowed; valid values"),
])
def test_bad_released_configs(change, match):
    with pytest.raises(ConfigError, match=match) as exc:
        normalize({**_cfg(EF21_SGDM), **change})
    assert "\n" not in str(exc.value)
