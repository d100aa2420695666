"""The simulation engine: ``run(config) -> Result``.

Each iteration t = 0, …, T−1 (the common structure of all algorithms, :mod:`byzref.algorithms.base`):

    record ‖∇f(x^t)‖²;  ĝ^t = Agg(G^t);  x^{t+1} = x^t − γ ĝ^t;
    good workers update their rows of G at x^{t+1};  the attack writes the Byzantine rows.

Randomness comes from named streams of the run's seed (byzref.rng): "problem" (the instance),
"samples" (every worker's stochastic samples, shared by all methods: common random numbers),
"compressor"/"good" and "compressor"/"byzantine", "attack", "aggregator" (bucketing) and
"algorithm" (shared coins of MARINA/PAGE).

Protocol "released" (run-level ``protocol = "released"``) follows the conventions of the Byz-DM21
authors' released simulator (arXiv:2603.15144; ``simulator.py``, ``server.py``, ``worker.py``,
``worker_lr.py``), in the Python loop only:

* round 0: for Byz-DM21 and Byz-EF21-SGDM the workers only initialise and send zeros, so the server's
  x¹ = x⁰; a second round at x⁰ with a new batch gives the first rows, which are byzref's G⁰ (the
  authors' x^{t+1} is byzref's x^t). Byz-VR-DM21's released init sends C(u⁰) in round 0: no shift.
* every round the Byzantine rows are rebuilt as (the last good worker's row before this round's
  update) + C(attack(this round's good messages)), with the run's compressor on the "compressor"/
  "byzantine" stream; no accumulation across rounds. The released sign flip (−one random good
  message) is not compressed again. Attack target "released" names this rule.
* bits: the dead round 0 is not counted; the counts start at the round that makes G⁰.
"""

from __future__ import annotations

import copy
import math
import os
import time
from typing import Any

import numpy as np
from numba import njit

from byzref import rng as rngmod
from byzref.algorithms.base import Block, Oracle
from byzref.attacks.base import AttackContext
from byzref.config import RunSpec, build, run_id
from byzref.errors import ConfigError
from byzref.kernels import kernel_covers
from byzref.results import Result, versions
from byzref.roles import byzantine_slice, good_slice

__all__ = ["STALL_RATIO", "checkpoints", "progress_ratio", "run"]

#: a finished run whose ‖∇f‖² over its second half stays above this fraction of ‖∇f(x⁰)‖² is "stalled"
STALL_RATIO = 0.1

#: attacks for which the Byzantine workers also run the protocol (on their own or flipped data)
_SHADOW_ATTACKS = {"none", "bit_flip", "label_flip"}


@njit(cache=True)
def sq_norm(g):  # pragma: no cover - compiled
    """Σ_j g_j², summed in index order (both loops use this order for ‖∇f‖²)."""
    s = 0.0
    for j in range(g.shape[0]):
        s += g[j] * g[j]
    return s


def checkpoints(T: int, record: dict) -> np.ndarray:
    """Iterations (0..T, both ends included) at which the curves are recorded.

    With ``every = k``: 0, k, 2k, … and T. With ``log = p``: the distinct values of
    round(geomspace(1, T + 1, p)) − 1, plus 0 and T (so at most p + 2 points, fewer at small T).

    Parameters
    ----------
    T : int
        The horizon.
    record : dict
        The run's ``record`` table; ``"every"`` or ``"log"`` (one of them) decides.

    Returns
    -------
    numpy.ndarray
        Sorted distinct int64 iterations, starting at 0 and ending at T.
    """
    if "every" in record:
        pts = np.arange(0, T + 1, record["every"])
    else:
        pts = np.unique(np.round(np.geomspace(1, T + 1, record["log"])).astype(np.int64) - 1)
    return np.unique(np.concatenate([pts, [0, T]])).astype(np.int64)


def progress_ratio(curves: dict[str, np.ndarray], T: int) -> float:
    r"""How far a run got: median of ‖∇f(xᵗ)‖² over the checkpoints with t ≥ T/2, divided by ‖∇f(x⁰)‖².

    .. math:: \rho = \operatorname{median}_{t \in \mathcal{C},\, t \ge T/2} \|\nabla f(x^t)\|^2
              \,/\, \|\nabla f(x^0)\|^2

    over the recorded checkpoints 𝒞 (the median ignores a few spikes). A finished run with
    ρ ≥ :data:`STALL_RATIO` is reported "stalled": over its whole second half the squared gradient norm
    stayed within a factor 10 of where it started, including a run that ends above its start. NaN when
    ‖∇f(x⁰)‖² = 0 (x⁰ is already stationary: nothing to decrease).

    Parameters
    ----------
    curves : dict
        A run's curves; ``"iteration"`` and ``"grad_sq"`` are read.
    T : int
        The run's horizon.

    Returns
    -------
    float
        ρ, or NaN (also when no checkpoint has t ≥ T/2).
    """
    it, g = np.asarray(curves["iteration"]), np.asarray(curves["grad_sq"], dtype=np.float64)
    if len(g) == 0 or not g[0] > 0:
        return math.nan
    tail = g[it >= T / 2]
    return float(np.median(tail) / g[0]) if len(tail) else math.nan


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


def run(config: dict | RunSpec, fast: bool | None = None, *, workload: float | None = None) -> Result:
    """Run one simulation and return its :class:`~byzref.results.Result` (also ``byzref.run``).

    Each iteration records ‖∇f(xᵗ)‖², aggregates ĝᵗ = Agg(Gᵗ), steps xᵗ⁺¹ = xᵗ − γ ĝᵗ, lets the
    good workers update their rows of G at xᵗ⁺¹ and the attack write the Byzantine rows; see
    :ref:`guide-engine` and :ref:`math-algorithms`.

    Parameters
    ----------
    config : dict or RunSpec
        A run config (see :mod:`byzref.config`), or a :class:`~byzref.config.RunSpec` already
        built from one. A dict is validated in full before any work starts.
    fast : bool or None, optional
        Selects the loop; both give the same curves bit for bit. True: the compiled loop of
        :mod:`byzref.compiled`, built from the components' kernels (compiled on first use, then
        cached on disk); a configuration it cannot run is refused with a ConfigError. False: the
        readable Python reference loop. None (default): ``$BYZREF_ENGINE`` decides — "compiled",
        "python", or "auto" (the default): the compiled loop when every component has a kernel (all
        built-in ones do) and this combination is already compiled on this machine or the run is
        long enough to repay compiling it (:func:`byzref.compiled.python_seconds` ≥
        :data:`byzref.compiled.COMPILE_SECONDS`), else the Python loop.
    workload : float or None, optional
        The estimated Python-loop seconds of all the runs of this combination the caller is about
        to make (sweeps pass it), used instead of this run's own estimate when larger. Default None.

    Returns
    -------
    Result
        Config, run id, status, curves, summary, problem constants, versions and wall time.

    Raises
    ------
    ConfigError
        For an invalid configuration (before any work), or ``fast=True`` on a configuration the
        compiled loop cannot run.

    Notes
    -----
    A run whose iterate or gradient becomes non-finite, or whose ‖∇f‖² exceeds
    ``record.diverge_at``, stops with status "diverged" at that iteration and keeps its curves
    up to there. A run that finishes gets status "ok", or "stalled" when its :func:`progress_ratio`
    (second-half median of ‖∇f‖² over ‖∇f(x⁰)‖², in ``summary["progress_ratio"]``) is at least
    :data:`STALL_RATIO`; a stalled run keeps all its data and is only flagged.
    """
    spec = config if isinstance(config, RunSpec) else build(config)
    t0 = time.perf_counter()
    # overflow and NaN are how a run diverges, and the status records it: no floating-point warnings
    with np.errstate(all="ignore"):
        sim = _Simulation(spec, fast, workload)
        if sim.loop is not None:
            sim.run_compiled()
        else:
            sim.run_python()
        return sim.result(time.perf_counter() - t0)


ENGINES = ("auto", "compiled", "python")


def engine_choice() -> str:
    """The loop ``run(fast=None)`` uses: ``$BYZREF_ENGINE`` ("auto" by default, "compiled" or "python")."""
    value = os.environ.get("BYZREF_ENGINE", "auto").strip().lower() or "auto"
    if value not in ENGINES:
        raise ConfigError(f"BYZREF_ENGINE = {value!r} is not allowed; allowed values: {', '.join(ENGINES)}",
                          field="BYZREF_ENGINE")
    return value


def _compiled_run(sim, required: bool, workload: float | None = None):
    """The compiled form of the run, or None (a component without a kernel, or "auto" declines).

    ``fast=True`` or ``BYZREF_ENGINE=compiled`` ask for the compiled loop: a configuration it cannot run
    (a component without a kernel of its own class or whose kernel() refuses its parameters, e.g. a
    round-0 batch, or protocol "released") is then refused with one ConfigError line instead of
    running in the Python loop.

    Under "auto" a combination already compiled on this machine always runs compiled; a new one is
    compiled when the Python loop would take longer than compiling it
    (:data:`byzref.compiled.COMPILE_SECONDS`).
    """
    from byzref.compiled import COMPILE_SECONDS, CompiledRun, NotCompiled, attack_probes, python_seconds

    stages = [*getattr(sim.agg, "pre", []), getattr(sim.agg, "final", sim.agg)]
    missing = [c.name for c in (sim.prob, sim.alg, sim.comp, *stages, sim.attack) if not kernel_covers(c)]
    choice = "compiled" if required else engine_choice()
    if choice == "python":
        return None
    probes = attack_probes(type(sim.attack), sim.attack.params()) if sim.f > 0 else 0
    own = python_seconds(sim.T, sim.n, sim.prob.d, len(stages), probes)
    long_run = max(own, workload or 0.0) >= COMPILE_SECONDS
    compile_new = choice == "compiled" or long_run
    try:
        if sim.protocol != "byzref":  # the compiled loop implements byzref's protocol only
            raise NotImplementedError(f"protocol = {sim.protocol!r} runs only in the Python loop")
        if missing:
            raise NotImplementedError(f"no kernel that computes what {', '.join(missing)} computes (a "
                                      "kernel() of its own class is needed when it overrides the maths)")
        return CompiledRun(sim, compile_new=compile_new)
    except NotCompiled:
        return None
    except NotImplementedError as exc:
        if choice == "compiled":  # fast=True or BYZREF_ENGINE=compiled: asked for, so refused, not replaced
            raise ConfigError(f"this configuration cannot run compiled: {exc} (use fast=False or "
                              "BYZREF_ENGINE=auto/python)") from None
        return None


class _Simulation:
    """State of one run: iterate, server rows G, worker blocks, streams, counters and curves."""

    def __init__(self, spec: RunSpec, fast: bool | None, workload: float | None = None):
        cfg = spec.cfg
        self.spec, self.cfg = spec, cfg
        self.protocol = cfg.get("protocol", "byzref")
        seed, n, f = cfg["seed"], cfg["n"], cfg["f"]
        self.n, self.f, self.T = n, f, cfg["T"]
        self.prob, self.alg, self.comp = spec.problem, spec.algorithm, spec.compressor
        self.agg, self.attack = spec.aggregator, spec.attack
        d = self.prob.d
        self.agg.reset()
        shadow_needed = f > 0 and self.attack.name in _SHADOW_ATTACKS
        flip = byzantine_slice(n, f) if (f > 0 and self.attack.name == "label_flip") else None
        batch = getattr(self.alg, "batch", 1)
        self.oracle = Oracle(self.prob, rngmod.stream(seed, "samples"), batch, flip=flip)
        self.rng_alg = rngmod.stream(seed, "algorithm")
        self.rng_agg = rngmod.stream(seed, "aggregator")
        self.rng_att = rngmod.stream(seed, "attack")
        self.G = np.zeros((n, d))
        self.good = Block(self.G[good_slice(n, f)], good_slice(n, f), self.oracle,
                          rngmod.stream(seed, "compressor", "good"))
        self.shadow = (Block(np.zeros((f, d)), byzantine_slice(n, f), self.oracle,
                             rngmod.stream(seed, "compressor", "byzantine")) if shadow_needed else None)
        self.byz_rows = self.G[byzantine_slice(n, f)]
        self.x = np.array(self.prob.x0(), dtype=np.float64, copy=True)

        self.down_per_round = float(d * self.comp.float_bits)
        self.loop = None
        if fast is not False:
            self.loop = _compiled_run(self, required=fast is True, workload=workload)
        if self.loop is not None:  # round 0 runs in the compiled loop's first call (same streams, order)
            self.loop.start(self.down_per_round)
            self.cum_up, self.cum_down = 0.0, self.down_per_round
        elif self.protocol == "released":
            self.rng_byz_comp = rngmod.stream(seed, "compressor", "byzantine")  # no shadow block here
            self._released_start()
        else:
            self.oracle.new_iteration()
            self.alg.iteration_setup(self.rng_alg)
            up_bits = self.alg.init(self.good, self.x, self.comp)
            if self.shadow is not None:
                self.alg.init(self.shadow, self.x, self.comp)
            self.write_byzantine(0, None)
            self.cum_up, self.cum_down = up_bits, self.down_per_round
        self.cps = checkpoints(self.T, cfg["record"])
        self.rec = _Recorder(self.cps, self.prob, self.good)
        self.diverge_at = cfg["record"]["diverge_at"]
        self.status, self.diverged_at = "ok", None
        self.sum_gsq, self.n_gsq = 0.0, 0

    # --- the adversary ---------------------------------------------------------------------------
    def _own_rows(self) -> np.ndarray:
        return self.shadow.msg if self.spec.target == "message" else self.shadow.rows

    def _aggregate_probe(self, X: np.ndarray) -> np.ndarray:
        return self.agg.evaluate(X, copy.deepcopy(self.rng_agg))

    def write_byzantine(self, t: int, g_hat) -> None:
        """The attack writes the Byzantine rows of G (attack target "state" or "message")."""
        if self.f == 0:
            return
        target = self.spec.target
        H = self.good.rows if target == "state" else self.good.msg
        own = self._own_rows if self.shadow is not None else None
        ctx = AttackContext(n=self.n, f=self.f, t=t, aggregate=self._aggregate_probe, own_rows=own,
                            flipped_rows=own)
        B = self.attack(H, ctx, self.rng_att)
        if target == "state" or t == 0:
            self.byz_rows[...] = B
        else:
            self.alg.apply_message(self.byz_rows, B, g_hat)

    # --- protocol "released" (the authors' simulator) ----------------------------------------------
    def write_byzantine_released(self, t: int, base: np.ndarray, msgs: np.ndarray) -> None:
        """Byzantine rows of the authors' server: base + C(attack(msgs)), every row rebuilt.

        ``base`` (d,) is the last good worker's row before this round's update (``server.py``
        ``update_gradient`` pairs every Byzantine message with the last stored good row), ``msgs`` the
        good workers' messages of this round. The attack vector is compressed with the run's compressor
        on the "compressor"/"byzantine" stream (each Byzantine worker compresses its own, as in the
        authors' ``attacks/xie.py`` and ``attacks/alittle.py``), except the released sign flip, which
        sends −(a good message) as is (``attacks/signflipping.py``).
        """
        if self.f == 0:
            return
        ctx = AttackContext(n=self.n, f=self.f, t=t, aggregate=self._aggregate_probe)
        B = self.attack(msgs, ctx, self.rng_att)
        if self.attack.name != "sign_flip":
            B = self.comp._compress(np.ascontiguousarray(B), self.rng_byz_comp)
        np.add(base, B, out=self.byz_rows)

    def _released_start(self) -> None:
        """Rounds 0 (and, after a dead round 0, 1) of the authors' simulator; they leave G⁰ and x⁰.

        "live" round 0 (Byz-VR-DM21, init "released"): the workers' first messages are their rows
        (the stored rows before it are zeros). "dead" round 0 (Byz-DM21, Byz-EF21-SGDM): the workers
        initialise (:meth:`~byzref.algorithms.base.Algorithm.released_init`) and send zeros, the
        server aggregates its zero good rows and the Byzantine rows built from zero messages, so
        x¹ = x⁰ − γ·0 = x⁰; then round 1 runs the method's step at (x¹, x⁰) on a new batch.
        """
        alg, good, comp, d = self.alg, self.good, self.comp, self.prob.d
        self.cum_down = self.down_per_round
        self.oracle.new_iteration()
        alg.iteration_setup(self.rng_alg)
        if alg.released_round0 == "live":
            self.cum_up = alg.released_init(good, self.x, comp)
            self.write_byzantine_released(0, np.zeros(d), good.msg)
            return
        alg.released_init(good, self.x, comp)
        worker_rows = good.rows.copy()
        good.rows[...] = 0.0  # the server stores zeros in round 0
        zeros = np.zeros((self.n - self.f, d))
        self.write_byzantine_released(0, np.zeros(d), zeros)
        g_dead = self.agg(self.G, self.rng_agg)
        good.rows[...] = worker_rows
        x1 = self.x - alg.gamma * g_dead
        self.oracle.new_iteration()
        alg.iteration_setup(self.rng_alg)
        base = good.rows[-1].copy()
        self.cum_up = alg.step(good, x1, self.x, g_dead, comp)
        self.write_byzantine_released(0, base, good.msg)
        self.x = x1

    # --- the two loops -------------------------------------------------------------------------------
    def _bad(self, gsq: float) -> bool:
        return not (math.isfinite(gsq) and gsq <= self.diverge_at) or not np.isfinite(self.x).all()

    def _diverged(self, t: int) -> None:
        self.status, self.diverged_at = "diverged", t

    def run_compiled(self) -> None:
        """The compiled loop between checkpoints (byzref.compiled); Python records the rows."""
        loop, T, acc = self.loop, self.T, self.loop.acc
        t_from = 0
        for cp in self.cps:
            t, bad = loop.advance(self.x, t_from, int(cp), T)
            avg = acc[0] / max(acc[1], 1.0)
            g_hat = None if (bad or t == T) else loop.g_hat
            self.rec.row(t, float(acc[2]), avg, float(acc[3]), float(acc[4]), self.x, bad=bad, g_hat=g_hat)
            if bad:
                self._diverged(t)
                break
            t_from = t + 1
        self.sum_gsq, self.n_gsq = float(acc[0]), int(acc[1])
        self.cum_up, self.cum_down = float(acc[3]), float(acc[4])

    def run_python(self) -> None:
        """The general loop: any algorithm, compressor, aggregator pipeline, attack and problem."""
        alg, comp, good, shadow, T = self.alg, self.comp, self.good, self.shadow, self.T
        grad_every = self.cfg["record"]["grad_every"]
        released = self.protocol == "released"
        k, gsq = 0, math.nan
        for t in range(T + 1):
            at_cp = t == self.cps[k]
            if t % grad_every == 0 or at_cp or t == T:
                gsq = sq_norm(self.prob.grad(self.x))
            bad = self._bad(gsq)
            if t < T and t % grad_every == 0 and not bad:
                self.sum_gsq += gsq
                self.n_gsq += 1
            g_hat = self.agg(self.G, self.rng_agg) if (t < T and not bad) else None
            if at_cp or bad:
                self.rec.row(t, gsq, self.sum_gsq / max(self.n_gsq, 1), self.cum_up, self.cum_down, self.x,
                             bad=bad, g_hat=g_hat)
                k += 1
            if bad:
                self._diverged(t)
                break
            if t == T:
                break
            x_new = self.x - alg.gamma * g_hat
            self.oracle.new_iteration()
            alg.iteration_setup(self.rng_alg)
            base = good.rows[-1].copy() if released and self.f > 0 else None
            self.cum_up += alg.step(good, x_new, self.x, g_hat, comp)
            if shadow is not None:
                alg.step(shadow, x_new, self.x, g_hat, comp)
            if released:
                self.write_byzantine_released(t + 1, base, good.msg)
            else:
                self.write_byzantine(t + 1, g_hat)
            self.cum_down += self.down_per_round
            self.x = x_new

    def result(self, wall_time: float) -> Result:
        curves = self.rec.curves()
        # avg_grad_sq(T) = (1/T) Σ_{t<T} ‖∇f(x^t)‖²; for a diverged run, over the iterates before it
        summary: dict[str, Any] = {
            "avg_grad_sq": self.sum_gsq / max(self.n_gsq, 1),
            "final_grad_sq": float(curves["grad_sq"][-1]),
            "final_f_gap": float(curves["f_gap"][-1]),
            "bits_up_per_worker": float(self.cum_up),
            "bits_down_per_worker": float(self.cum_down),
            "iterations": int(self.diverged_at if self.diverged_at is not None else self.T),
            "progress_ratio": progress_ratio(curves, self.T) if self.status == "ok" else math.nan,
        }
        if self.status == "ok" and summary["progress_ratio"] >= STALL_RATIO:
            self.status = "stalled"
        return Result(config=self.cfg, run_id=run_id(self.cfg), status=self.status,
                      diverged_at=self.diverged_at, curves=curves, summary=summary,
                      constants=self.prob.constants.as_dict(), versions=versions(), wall_time=wall_time)
