"""Fused fast path of the engine for its hottest configuration family (SPEC §4.1–§4.3, §5).

The Python loop in :mod:`byzref.engine` composes any algorithm, compressor, aggregator, attack and
problem, at a few microseconds of interpreter overhead per component call. For the configurations
that rate verification runs by the thousand, this module runs whole stretches of iterations
(between two checkpoints) inside one jitted kernel:

* algorithms: byz_dm21 (both variants), byz_vr_dm21 (paper init), byz_ef21_sgdm, byz_ef21_sgd and
  their presets — every stochastic EF21-family method;
* problem: nonconvex_synthetic with additive noise only (the default rate problem);
* compressor: identity or top_k;  aggregator: mean, cwtm or cwmed (no pre-aggregator);
* attack on the state: sign_flip, ipm, alie (rows c_mean·mean(H) + c_std·std(H)), or f = 0.

It performs the same floating-point operations in the same order as the Python path (momenta,
EF21 step, problem gradient, trimmed mean and the attack statistics), and Top-k selects the same
set by a faster route (threshold screening), so both paths give bit-identical curves; tests
compare them exactly on 15 configurations and at d = 5000. The noise is regenerated in
the kernel, worker by worker, from the seeds of the same "samples" stream that ``problem.draw``
consumes (byzref.gaussian), so the Byzantine workers' unused rows are never generated.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from byzref.aggregators.cwtm import _trimmed_mean_kernel, sorting_network
from byzref.compressors.top_k import _kth_smallest
from byzref.gaussian import draw_seeds, normal_row

__all__ = ["FusedLoop", "fused_plan", "sq_norm"]

_ALG = {"byz_dm21": 0, "dm21": 0, "byz_vr_dm21": 1, "byz_ef21_sgdm": 2, "ef21_sgdm": 2, "byz_ef21_sgd": 3}
_SEED_BLOCK = 4096  # iterations' seeds drawn per Python call


def fused_plan(spec) -> dict | None:
    """The fused-loop parameters of a built run, or None when it is outside the supported family."""
    cfg, alg, comp, agg, attack, prob = (spec.cfg, spec.algorithm, spec.compressor, spec.aggregator,
                                         spec.attack, spec.problem)
    n, f = cfg["n"], cfg["f"]
    code = _ALG.get(alg.name)
    if code is None or cfg["record"]["grad_every"] != 1:
        return None
    if alg.name in ("byz_dm21", "dm21") and alg.variant == "released":
        code = 1
    if alg.name == "byz_vr_dm21" and alg.init_mode != "paper":
        return None
    if prob.name != "nonconvex_synthetic" or prob.constants.extra.get("curvature_std", 0.0):
        return None
    if type(prob).__name__ != "NonconvexSynthetic" or getattr(prob, "_k", 2) != 1:
        return None
    if comp.name not in ("identity", "top_k") or getattr(agg, "stages", None):
        return None
    if agg.name == "mean":
        agg_b = -1
    elif agg.name == "cwtm":
        agg_b = agg.trim()
    elif agg.name == "cwmed":
        agg_b = (n - 1) // 2
    else:
        return None
    if f > 0:
        if spec.target != "state" or not hasattr(attack, "linear_form"):
            return None
        c_mean, c_std = attack.linear_form(n, f)
        if c_std != 0.0 and n - f < 2:
            return None
    else:
        c_mean, c_std = 0.0, 0.0
    return {"alg": code, "eta": getattr(alg, "eta", 1.0), "eta2": getattr(alg, "eta2", 1.0),
            "k": comp.k if comp.name == "top_k" else 0, "agg_b": agg_b, "c_mean": c_mean, "c_std": c_std}


@njit(cache=True)
def sq_norm(g):  # pragma: no cover - compiled
    """Σ_j g_j², summed in index order (both engine paths use this order for ‖∇f‖²)."""
    s = 0.0
    for j in range(g.shape[0]):
        s += g[j] * g[j]
    return s


@njit(cache=True)
def _less(va, ia, vb, ib):  # pragma: no cover - compiled
    """Entry a ranks below entry b: smaller |x|, or equal |x| and a larger index."""
    return va < vb or (va == vb and ia > ib)


@njit(cache=True)
def _sift_down(hv, hi, pos, k):  # pragma: no cover - compiled
    while True:
        c = 2 * pos + 1
        if c >= k:
            return
        if c + 1 < k and _less(hv[c + 1], hi[c + 1], hv[c], hi[c]):
            c += 1
        if not _less(hv[c], hi[c], hv[pos], hi[pos]):
            return
        hv[pos], hv[c] = hv[c], hv[pos]
        hi[pos], hi[c] = hi[c], hi[pos]
        pos = c


@njit(cache=True)
def _heap_top_k_add(x, k, g, hv, hi):  # pragma: no cover - compiled
    """g[S] += x[S] for S = the k entries of largest |x| (ties → lowest index, NaN ranks lowest).

    The same set as the top_k compressor, found with a min-heap (by rank: |x|, then index) of the
    best k entries seen so far: a later entry enters only when it outranks the heap's minimum.
    O(d log k) with no allocation. Mutates g, hv, hi.
    """
    d = x.shape[0]
    for j in range(d):
        a = abs(x[j])
        if a != a:
            a = -1.0
        if j < k:
            hv[j] = a
            hi[j] = j
            if j == k - 1:
                for pos in range(k // 2 - 1, -1, -1):
                    _sift_down(hv, hi, pos, k)
        elif _less(hv[0], hi[0], a, j):
            hv[0] = a
            hi[0] = j
            _sift_down(hv, hi, 0, k)
    for r in range(k):
        g[hi[r]] += x[hi[r]]


@njit(cache=True)
def _count_ge(x, t):  # pragma: no cover - compiled
    """#{j : |x_j| ≥ t} (NaN never counts); a branch-free, vectorised pass."""
    c = 0
    for j in range(x.shape[0]):
        c += abs(x[j]) >= t
    return c


@njit(cache=True)
def _thresh_top_k_add(x, k, g, tau, i, hv, hi, cidx, cabs, work):  # pragma: no cover - compiled
    """g[S] += x[S] for S = the top_k set of x (as _heap_top_k_add), screening with a threshold.

    A threshold t with c = #{j : |x_j| ≥ t} ≥ k is sought from t = tau[i] by a few vectorised counts
    (down by 0.85 while c < k, up by 1.08 while c > k + 2 and stays ≥ k). Since the k-th largest
    |x| is then ≥ t, the whole top-k set (ties included) is among these c candidates, which are
    collected branch-free in index order; the c − k lowest-ranked (smallest |x|, ties → larger
    index) are dropped one by one, or, when c > k + 8, the k-th largest candidate is found by
    quickselect and the candidates above it, then those equal to it in index order, are taken. If no such t
    is found in 8 steps down (e.g. fewer than k finite entries), a heap runs over all of x. t only
    decides the work, never the result; the next call starts from 0.9 × this row's k-th largest
    |x|. Mutates g, tau[i], hv, hi, cidx, cabs, work.
    """
    d = x.shape[0]
    t = tau[i]
    c = _count_ge(x, t)
    down = 0
    while c < k:
        if down == 8 or not t > 0.0:
            _heap_top_k_add(x, k, g, hv, hi)
            tau[i] = 0.9 * hv[0] if hv[0] > 0.0 else 0.0
            return
        t *= 0.85
        c = _count_ge(x, t)
        down += 1
    up = 0
    while c > k + 2 and up < 3 and t > 0.0:
        c2 = _count_ge(x, t * 1.08)
        if c2 < k:
            break
        t *= 1.08
        c = c2
        up += 1
    c = 0
    for j in range(d):
        a = abs(x[j])
        cidx[c] = j
        cabs[c] = a
        c += a >= t
    if c - k > 8:  # many candidates: the k-th largest by quickselect, then > it, then ties in order
        for p in range(c):
            work[p] = cabs[p]
        kth = _kth_smallest(work, c, c - k, 64)
        left = k
        for p in range(c):
            left -= cabs[p] > kth
        for p in range(c):
            a = cabs[p]
            if a > kth or (a == kth and left > 0):
                left -= a == kth
                j = cidx[p]
                g[j] += x[j]
        tau[i] = 0.9 * kth
        return
    while c > k:  # drop the lowest-ranked candidate (smallest |x|, ties → larger index)
        best = 0
        for p in range(1, c):
            if cabs[p] < cabs[best] or (cabs[p] == cabs[best] and cidx[p] > cidx[best]):
                best = p
        c -= 1
        cabs[best] = cabs[c]
        cidx[best] = cidx[c]
    kth = np.inf
    for p in range(k):
        g[cidx[p]] += x[cidx[p]]
        kth = min(kth, cabs[p])
    tau[i] = 0.9 * kth


@njit(cache=True)
def _mean_of_rows(G, r, out):  # pragma: no cover - compiled
    """out[j] ← (Σ_{i<r} G[i, j]) / r, summed in row order (as NumPy's mean over axis 0)."""
    for j in range(G.shape[1]):
        out[j] = 0.0
    for i in range(r):
        for j in range(G.shape[1]):
            out[j] += G[i, j]
    for j in range(G.shape[1]):
        out[j] /= r


@njit(cache=True)
def _h(a, lam, x, out):  # pragma: no cover - compiled
    """out ← a∘x + λφ'(x): the gradient of nonconvex_synthetic without the shifts."""
    for j in range(x.shape[0]):
        q = 1.0 + x[j] * x[j]
        out[j] = a[j] * x[j] + lam * 2.0 * x[j] / (q * q)


@njit(cache=True)
def _chunk(x, G, V, U, seeds, nfac, a, lam, S, sbar, m, alg, eta, eta2, k, agg_b, pairs, c_mean, c_std,
           gamma, diverge_at, acc, ghat, x_new, h_new, h_old, diff, mu, hv, hi,
           row_b, z, tau, cidx, cabs, work):  # pragma: no cover
    """Run seeds.shape[0] iterations in place; return how many completed before a divergence.

    Iteration t's noise of worker i is nfac·(row i of the standard normals seeded seeds[t]), the
    values ``problem.draw`` returns; only the good rows are generated. Mutates x, G (all rows),
    V, U (good rows), acc = [Σ‖∇f(x^t)‖², count, last ‖∇f‖²] and the scratch vectors. The iterate
    recorded at each iteration is the one BEFORE its step (SPEC §1).
    """
    n, d = G.shape
    c = seeds.shape[0]
    _h(a, lam, x, h_old)  # h(x^t), carried from one iteration to the next
    for it in range(c):
        # metric at x^t: ∇f(x) = h(x) + s̄ (the same operations as NonconvexSynthetic.grad)
        gsq = 0.0
        finite = True
        for j in range(d):
            gj = h_old[j] + sbar[j]
            gsq += gj * gj
            if not math.isfinite(x[j]):
                finite = False
        acc[2] = gsq
        if not (finite and math.isfinite(gsq) and gsq <= diverge_at):
            return it
        acc[0] += gsq
        acc[1] += 1.0
        # ĝ = Agg(G), x^{t+1} = x^t − γ ĝ
        if agg_b < 0:
            _mean_of_rows(G, n, ghat)
        else:
            _trimmed_mean_kernel(G, agg_b, pairs, ghat)
        for j in range(d):
            x_new[j] = x[j] - gamma * ghat[j]
        # h at x^{t+1}; the problem kernel adds s_i, then ξ_i (STORM also uses h(x^t) = h_old)
        _h(a, lam, x_new, h_new)
        for i in range(m):
            g = G[i]
            normal_row(seeds[it], i, z)
            for j in range(d):
                xij = z[j] * nfac
                s_new = h_new[j] + S[i, j]
                s_new += xij
                if alg == 3:  # EF21 on the stochastic gradient itself
                    diff[j] = s_new - g[j]
                    continue
                if alg == 1:  # STORM: v ← (v − s_old)(1 − η) + s_new
                    s_old = h_old[j] + S[i, j]
                    s_old += xij
                    V[i, j] = (V[i, j] - s_old) * (1.0 - eta) + s_new
                else:
                    V[i, j] = V[i, j] * (1.0 - eta) + eta * s_new
                if alg <= 1:
                    U[i, j] = U[i, j] * (1.0 - eta2) + eta2 * V[i, j]
                    diff[j] = U[i, j] - g[j]
                else:
                    diff[j] = V[i, j] - g[j]
            if k == 0:
                for j in range(d):
                    g[j] += diff[j]
            else:  # threshold screening, then the same entries as top_k (_thresh_top_k_add)
                _thresh_top_k_add(diff, k, g, tau, i, hv, hi, cidx, cabs, work)
        # Byzantine rows: c_mean·mean(H) + c_std·std(H, ddof = 1) over the good rows H = G[:m]
        # (row-major passes; per coordinate the sums run over i = 0..m−1 in order, as NumPy's)
        if m < n:
            _mean_of_rows(G, m, mu)
            if c_std != 0.0:
                for j in range(d):
                    row_b[j] = 0.0
                for i in range(m):
                    for j in range(d):
                        dv = G[i, j] - mu[j]
                        row_b[j] += dv * dv
                for j in range(d):
                    row_b[j] = mu[j] + math.sqrt(row_b[j] / (m - 1)) * c_std
            else:
                for j in range(d):
                    row_b[j] = mu[j] * c_mean
            for i in range(m, n):
                for j in range(d):
                    G[i, j] = row_b[j]
        for j in range(d):
            x[j] = x_new[j]
        h_old, h_new = h_new, h_old
    return c


@njit(cache=True)
def _init_rows(x, seed, nfac, a, lam, S, m, alg, G, V, U, h, z):  # pragma: no cover - compiled
    """s_i = ∇f_i(x⁰; ξ⁰) for the good rows; v⁰ = u⁰ = g⁰ = s (SPEC §4.1 init). Mutates G, V, U, h, z.

    ξ⁰_i = nfac·(row i of the standard normals seeded ``seed``), as ``problem.draw``.
    """
    d = x.shape[0]
    _h(a, lam, x, h)
    for i in range(m):
        normal_row(seed, i, z)
        for j in range(d):
            v = h[j] + S[i, j]
            v += z[j] * nfac
            G[i, j] = v
            if alg <= 2:
                V[i, j] = v
            if alg <= 1:
                U[i, j] = v


class FusedLoop:
    """Holds the scratch arrays of one run and advances it by blocks of iterations."""

    def __init__(self, plan: dict, spec, G: np.ndarray, rng, batch: int):
        prob = spec.problem
        n, d = G.shape
        self.plan, self.prob, self.G, self.rng, self.batch = plan, prob, G, rng, batch
        self.m = n - spec.cfg["f"]
        alg = plan["alg"]
        self.V = np.empty((self.m, d if alg <= 2 else 0))  # first momentum (unused by EF21-SGD)
        self.U = np.empty((self.m, d if alg <= 1 else 0))  # second momentum (double-momentum methods)
        self.gamma = spec.algorithm.gamma
        self.diverge_at = spec.cfg["record"]["diverge_at"]
        self.acc = np.zeros(3)
        self.pairs = sorting_network(n) if plan["agg_b"] >= 0 else np.zeros((0, 2), dtype=np.int64)
        self.scratch = [np.empty(d) for _ in range(4)]  # ĝ, x^{t+1}, h(x^{t+1}), h(x^t)
        self.mu, self.row_b = np.empty(d), np.empty(d)
        self.hv, self.hi = np.empty(max(plan["k"], 1)), np.empty(max(plan["k"], 1), dtype=np.int64)
        w = d + 1 if plan["k"] > 0 else 0  # top_k scratch: candidates' indices, |x|, quickselect
        self.topk_scratch = (np.empty(w, dtype=np.int64), np.empty(w), np.empty(w))
        self.diff = np.empty(d)
        self.z = np.empty(d)  # one worker's standard normals
        self.tau = np.zeros(self.m)  # per-row screening thresholds of top_k (they decide work only)
        self.arrays = prob.fused_arrays()
        self.nfac = prob.fused_noise_factor(batch)

    def init(self, x: np.ndarray) -> None:
        """Write the good rows of G (and v⁰, u⁰) at x⁰ from one draw of the samples stream."""
        a, lam, S, _ = self.arrays
        _init_rows(x, draw_seeds(self.rng)[0], self.nfac, a, lam, S, self.m, self.plan["alg"], self.G,
                   self.V, self.U, self.scratch[0], self.z)

    def advance(self, x: np.ndarray, iters: int) -> int:
        """Run ``iters`` iterations from x (updated in place); return the number completed."""
        p, (a, lam, S, sbar) = self.plan, self.arrays
        done = 0
        while done < iters:
            c = min(_SEED_BLOCK, iters - done)
            seeds = draw_seeds(self.rng, c)  # one per iteration, as c calls of problem.draw
            got = _chunk(x, self.G, self.V, self.U, seeds, self.nfac, a, lam, S, sbar, self.m, p["alg"],
                         p["eta"], p["eta2"], p["k"], p["agg_b"], self.pairs, p["c_mean"], p["c_std"],
                         self.gamma, self.diverge_at, self.acc, *self.scratch, self.diff, self.mu,
                         self.hv, self.hi, self.row_b, self.z, self.tau, *self.topk_scratch)
            done += got
            if got < c:
                break
        return done
