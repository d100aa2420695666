"""Plain NumPy reference implementations of whole runs (never imported by the library).

Written from the documented update rules directly, with their own Top-k, trimmed mean and ALIE; only the
problem's oracles (tested separately) and the named sample stream are shared with the engine.
"""

import numpy as np
from scipy.stats import norm

from byzref.rng import stream


def top_k(X, k):
    out = np.zeros_like(X)
    for i, row in enumerate(X):
        idx = np.argsort(-np.abs(row), kind="stable")[:k]  # ties → lowest index
        out[i, idx] = row[idx]
    return out


def cwtm(X, b):
    S = np.sort(X, axis=0)
    return S[b:X.shape[0] - b].mean(axis=0)


def alie(H, n, f):
    s = n // 2 + 1 - f
    z = norm.ppf((n - f - s) / (n - f))
    return H.mean(axis=0) - z * H.std(axis=0, ddof=1)


def byz_dm21(problem, T, gamma, eta, eta2, k, seed, vr=False):
    """Byz-DM21 (vr=False) or Byz-VR-DM21 (vr=True) with top_k, cwtm(b=f), ALIE on the state.

    Returns ‖∇f(x^t)‖² for t = 0..T.
    """
    n, f = problem.n, problem.f
    m = n - f
    rng = stream(seed, "samples")
    x = problem.x0().copy()
    s = problem.stoch_grads(x, problem.draw(rng, 1))[:m].copy()
    v, u, g = s.copy(), s.copy(), s.copy()
    G = np.zeros((n, problem.d))
    G[:m] = g
    G[m:] = alie(g, n, f)
    out = []
    for _ in range(T):
        out.append(float(np.sum(problem.grad(x) ** 2)))
        x_new = x - gamma * cwtm(G, f)
        smp = problem.draw(rng, 1)
        if vr:
            a = problem.stoch_grads(x_new, smp)[:m]
            b = problem.stoch_grads(x, smp)[:m]
            v = a + (1 - eta) * (v - b)
        else:
            v = (1 - eta) * v + eta * problem.stoch_grads(x_new, smp)[:m]
        u = (1 - eta2) * u + eta2 * v
        g = g + top_k(u - g, k)
        G[:m] = g
        G[m:] = alie(g, n, f)
        x = x_new
    out.append(float(np.sum(problem.grad(x) ** 2)))
    return np.array(out)
