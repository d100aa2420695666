"""Source of the compiled engine's loop; :mod:`byzref.compiled` copies it into one module per combination.

Everything below the ``# === body ===`` line is copied, after lines that import the run's
component kernels under the names stubbed here (``prob_*``, ``comp_fn``, ``agg_eval``, ``alg_*``,
``att_fn``). The loop is the reference loop of :func:`byzref.engine.run` (``run_python``) written
over arrays: iteration t records ‖∇f(xᵗ)‖², aggregates ĝᵗ = Agg(Gᵗ), steps xᵗ⁺¹ = xᵗ − γĝᵗ, lets the
good workers (and the Byzantine workers' shadow block) update their rows, and lets the attack write
the Byzantine rows. No component's rule is written here: each is a call to the component's kernel.
"""

# ruff: noqa: E402
from __future__ import annotations


def _stub(*args):  # pragma: no cover - replaced in the generated module
    raise NotImplementedError("byzref._driver is a source template; use byzref.compiled")


prob_draw = prob_stoch = prob_pair = prob_full = prob_grad = comp_fn = agg_eval = _stub
alg_setup = alg_init = alg_step = alg_apply = att_fn = _stub

# === body ===
import math

from numba import njit

from byzref.kernels import as_generator

# acc slots: Σ‖∇f‖² over recorded iterations, their count, the last ‖∇f‖², uplink bits, downlink bits
_SUM, _COUNT, _LAST, _UP, _DOWN = 0, 1, 2, 3, 4


@njit(inline="always")
def stoch(ok, x):  # pragma: no cover - compiled
    """The block's rows of ∇f_i(x; ξ_i); the samples are drawn on the iteration's first request."""
    pp, smp, rng, lo, hi, flip, b0, _b1, drawn = ok
    if drawn[0] == 0:
        prob_draw(pp, as_generator(rng), smp)
        drawn[0] = 1
    prob_stoch(pp, x, smp, lo, hi, flip, b0)
    return b0


@njit(inline="always")
def pair(ok, x_new, x_old):  # pragma: no cover - compiled
    """The block's rows of (∇f_i(x_new; ξ_i), ∇f_i(x_old; ξ_i)) with the same samples."""
    pp, smp, rng, lo, hi, flip, b0, b1, drawn = ok
    if drawn[0] == 0:
        prob_draw(pp, as_generator(rng), smp)
        drawn[0] = 1
    prob_pair(pp, x_new, x_old, smp, lo, hi, flip, b0, b1)
    return b0, b1


@njit(inline="always")
def full(ok, x):  # pragma: no cover - compiled
    """The block's rows of ∇f_i(x)."""
    pp, _smp, _rng, lo, hi, flip, b0, _b1, _drawn = ok
    prob_full(pp, x, lo, hi, flip, b0)
    return b0


@njit(inline="always")
def scratch(ok):  # pragma: no cover - compiled
    """The block's first gradient buffer, which an algorithm may overwrite once it has read its gradients."""
    return ok[6]


@njit(inline="always")
def compress(ck, X, out):  # pragma: no cover - compiled
    """The run's compressor on every row of X, with the block's stream."""
    comp_fn(ck[0], X, as_generator(ck[1]), out)


@njit(inline="always")
def sq_norm(g):  # pragma: no cover - compiled
    """Σ_j g_j², in index order (as byzref.engine.sq_norm)."""
    s = 0.0
    for j in range(g.shape[0]):
        s += g[j] * g[j]
    return s


@njit(inline="always")
def write_byzantine(t, G, m, g_hat, good, shadow, attack, ap, has_shadow, message):  # pragma: no cover
    """The attack writes the Byzantine rows G[m:] (on the state, or as messages after round 0)."""
    if G.shape[0] == m:
        return
    rows_g, msg_g = good[0], good[2]
    rows_s, msg_s = shadow[0], shadow[2]
    att_p, rng_att, pk, B, zeros = attack
    H = msg_g if message else rows_g
    own = (msg_s if message else rows_s) if has_shadow else zeros
    att_fn(att_p, H, own, t, as_generator(rng_att), pk, B)
    byz = G[m:]
    if not message or t == 0:
        for i in range(B.shape[0]):
            for j in range(B.shape[1]):
                byz[i, j] = B[i, j]
    else:
        alg_apply(ap, byz, B, g_hat)


@njit(inline="always")
def block_round(t, ap, blk, x, x_new, g_hat):  # pragma: no cover - compiled
    """One block's round: its init at x⁰ (t = 0) or its step into xᵗ; returns the bits of one message."""
    if t == 0:
        return alg_init(ap, blk[3], blk[5], x, blk[0], blk[1], blk[2])
    return alg_step(ap, blk[3], blk[5], x_new, x, g_hat, blk[0], blk[1], blk[2])


@njit(cache=True, _nrt=False)
def advance(t_from, t_to, T, grad_every, diverge_at, gamma, down_bits, x, x_new, gx, G, m, g_hat, pp, ak,
            good, shadow, attack, alg, has_shadow, message, acc):  # pragma: no cover - compiled
    """Iterations t_from..t_to: round 0 or the step into xᵗ, then the metric and ĝᵗ at xᵗ.

    Round 0 (t = 0): the iteration's shared randomness, every block's init at x⁰, the attack's
    first rows. Step into xᵗ (t ≥ 1): x_new = x − γĝ^{t−1}, every block's update, the attack.
    Each block is the good workers' or the Byzantine workers' shadow (when the attack needs it);
    both run the same kernels. Stops at t_to (a checkpoint) with ĝ^{t_to} computed, or earlier at
    the first iterate whose ‖∇f‖² is non-finite or above ``diverge_at`` or which is itself
    non-finite. Returns (last t, whether it diverged).

    Compiled without reference counting (``_nrt=False``): the loop allocates nothing, and every
    array it touches belongs to the caller for the whole call, so the atomic increments and
    decrements that Numba would otherwise emit around each use of the nested parameter tuples (about
    15 % of an iteration at n = 20, d = 30) are not needed. Inlined code that allocates fails to
    compile; the kernels it calls keep reference counting (:func:`byzref.kernels.bind`) and may
    allocate inside, but an array one of them returned here would never be freed (the conformance
    tests check that Numba's allocation counts balance over every run).
    The random streams arrive as bit generators and become Generators here (:func:`as_generator`):
    Numba's unboxing of a Generator allocates a record that only reference counting would release.
    """
    d = x.shape[0]
    ap, rng_alg = alg
    for t in range(t_from, t_to + 1):
        if t > 0:
            for j in range(d):
                x_new[j] = x[j] - gamma * g_hat[j]
        good[4][0] = 0  # a new iteration: samples not drawn yet (the flag is shared by both blocks)
        alg_setup(ap, as_generator(rng_alg))
        # the blocks are named, not indexed: indexing the pair (good, shadow) by a loop variable copies
        # a block's nested tuple on every iteration
        acc[_UP] += block_round(t, ap, good, x, x_new, g_hat)
        if has_shadow:
            block_round(t, ap, shadow, x, x_new, g_hat)
        write_byzantine(t, G, m, g_hat, good, shadow, attack, ap, has_shadow, message)
        if t > 0:
            acc[_DOWN] += down_bits
            for j in range(d):
                x[j] = x_new[j]
        if t % grad_every == 0 or t == t_to or t == T:
            prob_grad(pp, x, gx)
            acc[_LAST] = sq_norm(gx)
        gsq = acc[_LAST]
        bad = not (math.isfinite(gsq) and gsq <= diverge_at)
        if not bad:
            for j in range(d):
                if not math.isfinite(x[j]):
                    bad = True
                    break
        if t < T and t % grad_every == 0 and not bad:
            acc[_SUM] += gsq
            acc[_COUNT] += 1.0
        if bad:
            return t, True
        if t < T:
            agg_eval(ak, G, True, g_hat)
    return t_to, False
