"""The simulation engine: ``run(config) -> Result`` (SPEC §4, §5; DESIGN.md "Results").

Each iteration t = 0, …, T−1 (SPEC §4 "Common structure"):

    record ‖∇f(x^t)‖²;  ĝ^t = Agg(G^t);  x^{t+1} = x^t − γ ĝ^t;
    good workers update their rows of G at x^{t+1};  the attack writes the Byzantine rows.

Randomness comes from named streams of the run's seed (byzref.rng): "problem" (the instance),
"samples" (every worker's stochastic samples, shared by all methods: common random numbers),
"compressor"/"good" and "compressor"/"byzantine", "attack", "aggregator" (bucketing) and
"algorithm" (shared coins of MARINA/PAGE).
"""

from __future__ import annotations

import copy
import math
import time
from typing import Any

import numpy as np

from byzref import rng as rngmod
from byzref._fused import FusedLoop, fused_plan, sq_norm
from byzref.algorithms.base import Block, Oracle
from byzref.attacks.base import AttackContext
from byzref.config import RunSpec, build, run_id
from byzref.errors import ConfigError
from byzref.results import Result, versions
from byzref.roles import byzantine_slice, good_slice

__all__ = ["checkpoints", "run"]

#: attacks for which the Byzantine workers also run the protocol (on their own or flipped data)
_SHADOW_ATTACKS = {"none", "bit_flip", "label_flip"}


def checkpoints(T: int, record: dict) -> np.ndarray:
    """Iterations (0..T, both ends included) at which the curves are recorded."""
    if "every" in record:
        pts = np.arange(0, T + 1, record["every"])
    else:
        pts = np.unique(np.round(np.geomspace(1, T + 1, record["log"])).astype(np.int64) - 1)
    return np.unique(np.concatenate([pts, [0, T]])).astype(np.int64)


class _Recorder:
    """Checkpoint rows: iteration, bits, ‖∇f‖², running average, f − f*, ‖x − x*‖, aggregation error."""

    def __init__(self, cps, prob, good):
        self.prob, self.good = prob, good
        self.x_star = prob.x_star()
        m = len(cps)
        self.c = {k: np.full(m, np.nan) for k in
                  ("grad_sq", "grad_sq_avg", "f_gap", "dist", "agg_err", "bits_up", "bits_down")}
        self.c["iteration"] = np.zeros(m, dtype=np.int64)
        self.k = 0

    def row(self, t, gsq, avg, up, down, x, bad, g_hat=None) -> None:
        c, k = self.c, self.k
        c["iteration"][k] = t
        c["grad_sq"][k] = gsq
        c["grad_sq_avg"][k] = avg
        c["bits_up"][k] = up
        c["bits_down"][k] = down
        if not bad:
            c["f_gap"][k] = self.prob.gap(x)
            if self.x_star is not None:
                c["dist"][k] = float(np.linalg.norm(x - self.x_star))
            if g_hat is not None:
                e = g_hat - self.good.rows.mean(axis=0)
                c["agg_err"][k] = float(e @ e)
        self.k += 1

    def curves(self) -> dict[str, np.ndarray]:
        return {key: v[: self.k] for key, v in self.c.items()}


def run(config: dict | RunSpec, fast: bool | None = None) -> Result:
    """Run one simulation and return its :class:`~byzref.results.Result`.

    ``fast`` selects the fused jitted loop of :mod:`byzref._fused` (None: whenever the
    configuration supports it; False: always the general Python loop; True: require it).

    A run whose iterate or gradient becomes non-finite, or whose ‖∇f‖² exceeds
    ``record.diverge_at``, stops with status "diverged" at that iteration and keeps its curves
    up to there.
    """
    spec = config if isinstance(config, RunSpec) else build(config)
    cfg = spec.cfg
    t0 = time.perf_counter()
    seed, n, f, T = cfg["seed"], cfg["n"], cfg["f"], cfg["T"]
    prob, alg, comp, agg, attack = spec.problem, spec.algorithm, spec.compressor, spec.aggregator, spec.attack
    d = prob.d
    rec = cfg["record"]
    agg.reset()

    shadow_needed = f > 0 and attack.name in _SHADOW_ATTACKS
    flip = byzantine_slice(n, f) if (f > 0 and attack.name == "label_flip") else None
    oracle = Oracle(prob, rngmod.stream(seed, "samples"), getattr(alg, "batch", 1), flip=flip)
    rng_alg = rngmod.stream(seed, "algorithm")
    rng_agg = rngmod.stream(seed, "aggregator")
    rng_att = rngmod.stream(seed, "attack")

    G = np.zeros((n, d))
    good = Block(G[good_slice(n, f)], good_slice(n, f), oracle, rngmod.stream(seed, "compressor", "good"))
    shadow = (Block(np.zeros((f, d)), byzantine_slice(n, f), oracle,
                    rngmod.stream(seed, "compressor", "byzantine")) if shadow_needed else None)
    byz_rows = G[byzantine_slice(n, f)]

    def own_rows():
        return shadow.msg if spec.target == "message" else shadow.rows

    def aggregate_probe(X):
        return agg.evaluate(X, copy.deepcopy(rng_agg))

    def write_byzantine(t: int, g_hat) -> None:
        if f == 0:
            return
        H = good.rows if spec.target == "state" else good.msg
        ctx = AttackContext(n=n, f=f, t=t, aggregate=aggregate_probe,
                            own_rows=own_rows if shadow else None, flipped_rows=own_rows if shadow else None)
        B = attack(H, ctx, rng_att)
        if spec.target == "state" or t == 0:
            byz_rows[...] = B
        else:
            alg.apply_message(byz_rows, B, g_hat)

    x = np.array(prob.x0(), dtype=np.float64, copy=True)
    consts = prob.constants

    plan = fused_plan(spec) if fast is not False else None
    if fast is True and plan is None:
        raise ConfigError("this configuration has no fused fast path (see byzref._fused)")
    oracle.new_iteration()
    alg.iteration_setup(rng_alg)
    if plan is not None:  # the fused loop computes its own gradients (same draws, same arithmetic)
        loop = FusedLoop(plan, spec, G, oracle.rng, getattr(alg, "batch", 1))
        loop.init(x)
        up_bits = float(d * comp.float_bits)
    else:
        up_bits = alg.init(good, x, comp)
        if shadow is not None:
            alg.init(shadow, x, comp)
    write_byzantine(0, None)
    down_per_round = float(d * comp.float_bits)
    cum_up, cum_down = up_bits, down_per_round

    grad_every = rec["grad_every"]
    status, diverged_at = "ok", None
    cps = checkpoints(T, rec)
    rec_ = _Recorder(cps, prob, good)
    diverge_at = rec["diverge_at"]

    if plan is not None:
        # fused path: jitted blocks of iterations between checkpoints (byzref._fused)
        bits_step = comp.bits(d)
        t = 0
        for cp in cps:
            done = loop.advance(x, cp - t) if cp > t else 0
            t += done
            cum_up += done * bits_step
            cum_down += done * down_per_round
            s_acc, n_acc, g_last = loop.acc
            if t < cp:  # diverged at iteration t
                rec_.row(t, g_last, s_acc / max(n_acc, 1.0), cum_up, cum_down, x, bad=True)
                status, diverged_at = "diverged", t
                break
            gx = prob.grad(x)
            gsq = sq_norm(gx)
            bad = not (math.isfinite(gsq) and gsq <= diverge_at) or not np.isfinite(x).all()
            avg = (s_acc + gsq) / (n_acc + 1.0) if (t < T and not bad) else s_acc / max(n_acc, 1.0)
            g_hat = None if (bad or t == T) else agg.evaluate(G)  # stateless rules only (fused_plan)
            rec_.row(t, gsq, avg, cum_up, cum_down, x, bad=bad, g_hat=g_hat)
            if bad:
                status, diverged_at = "diverged", t
                break
        sum_gsq, n_gsq = float(loop.acc[0]), int(loop.acc[1])
    else:
        k = 0
        sum_gsq, n_gsq, gsq = 0.0, 0, math.nan
        for t in range(T + 1):
            at_cp = t == cps[k]
            if t % grad_every == 0 or at_cp or t == T:
                gx = prob.grad(x)
                gsq = sq_norm(gx)
            bad = not (math.isfinite(gsq) and gsq <= diverge_at) or not np.isfinite(x).all()
            if t < T and t % grad_every == 0 and not bad:
                sum_gsq += gsq
                n_gsq += 1
            g_hat = agg(G, rng_agg) if (t < T and not bad) else None
            if at_cp or bad:
                rec_.row(t, gsq, sum_gsq / max(n_gsq, 1), cum_up, cum_down, x, bad=bad, g_hat=g_hat)
                k += 1
            if bad:
                status, diverged_at = "diverged", t
                break
            if t == T:
                break
            x_new = x - alg.gamma * g_hat
            oracle.new_iteration()
            alg.iteration_setup(rng_alg)
            cum_up += alg.step(good, x_new, x, g_hat, comp)
            if shadow is not None:
                alg.step(shadow, x_new, x, g_hat, comp)
            write_byzantine(t + 1, g_hat)
            cum_down += down_per_round
            x = x_new

    curves = rec_.curves()
    k = len(curves["iteration"])
    # avg_grad_sq(T) = (1/T) Σ_{t<T} ‖∇f(x^t)‖² (SPEC §1); for a diverged run, over the iterates before it
    summary: dict[str, Any] = {
        "avg_grad_sq": sum_gsq / max(n_gsq, 1),
        "final_grad_sq": float(curves["grad_sq"][-1]),
        "final_f_gap": float(curves["f_gap"][-1]) if k else math.nan,
        "bits_up_per_worker": float(cum_up),
        "bits_down_per_worker": float(cum_down),
        "iterations": int(diverged_at if diverged_at is not None else T),
    }
    return Result(
        config=cfg,
        run_id=run_id(cfg),
        status=status,
        diverged_at=diverged_at,
        curves=curves,
        summary=summary,
        constants=consts.as_dict(),
        versions=versions(),
        wall_time=time.perf_counter() - t0,
    )
