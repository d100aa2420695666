"""Plain NumPy references for the problems' numba kernels and formulas (never imported by the library).

Everything here is written per sample / per worker with explicit loops, straight from the definitions.
"""

import numpy as np


def phi_prime(t):
    """d/dt t²/(1+t²)."""
    return 2.0 * t / (1.0 + t * t) ** 2


def nonconvex_grads(a, lam, shifts, x, noise=None, curv=None):
    """∇f_i(x) + ξ_i + D_i x for every worker i of nonconvex_synthetic."""
    n, d = shifts.shape
    out = np.zeros((n, d))
    for i in range(n):
        for j in range(d):
            v = a[j] * x[j] + lam * phi_prime(x[j]) + shifts[i, j]
            if noise is not None:
                v += noise[i, j]
            if curv is not None:
                v += curv[i, j] * x[j]
            out[i, j] = v
    return out


def nonconvex_loss(a, lam, shifts, f, x):
    """f(x) = mean over good workers of ½Σ a x² + λΣ x²/(1+x²) + ⟨s_i, x⟩."""
    g = shifts.shape[0] - f
    vals = [0.5 * np.sum(a * x**2) + lam * np.sum(x**2 / (1 + x**2)) + shifts[i] @ x for i in range(g)]
    return float(np.mean(vals))


def quadratic_loss(A, b, f, x):
    g = b.shape[0] - f
    return float(np.mean([0.5 * (x - b[i]) @ A @ (x - b[i]) for i in range(g)]))


def sample_loss(z, y, kind):
    return np.log1p(np.exp(-y * z)) if kind == "logistic" else 0.5 * (z - y) ** 2


def sample_grad(a, y, x, kind):
    """∇ of the per-sample loss at x (no regulariser)."""
    z = a @ x
    if kind == "logistic":
        return -y * a / (1.0 + np.exp(y * z))
    return (z - y) * a


def reg_value(x, lam, reg):
    if reg == "l2":
        return 0.5 * lam * float(x @ x)
    if reg == "nonconvex":
        return lam * float(np.sum(x**2 / (1 + x**2)))
    return 0.0


def reg_grad(x, lam, reg):
    if reg == "l2":
        return lam * x
    if reg == "nonconvex":
        return lam * phi_prime(x)
    return np.zeros_like(x)


def blocks(A, y, counts):
    off = np.concatenate([[0], np.cumsum(counts)])
    return [(A[off[i]:off[i + 1]], y[off[i]:off[i + 1]]) for i in range(len(counts))]


def worker_losses(A, y, counts, x, lam, kind, reg):
    return np.array([np.mean([sample_loss(a @ x, t, kind) for a, t in zip(Ai, yi, strict=True)])
                     + reg_value(x, lam, reg) for Ai, yi in blocks(A, y, counts)])


def worker_grads(A, y, counts, x, lam, kind, reg, ysign=1.0):
    out = []
    for Ai, yi in blocks(A, y, counts):
        g = np.mean([sample_grad(a, ysign * t, x, kind) for a, t in zip(Ai, yi, strict=True)], axis=0)
        out.append(g + reg_grad(x, lam, reg))
    return np.array(out)


def stoch_grads(A, y, counts, idx, x, lam, kind, reg, ysign=1.0):
    """(1/b) Σ_r ∇f_{i, idx[i, r]}(x) with LOCAL indices idx (n, b)."""
    out = []
    for i, (Ai, yi) in enumerate(blocks(A, y, counts)):
        g = np.mean([sample_grad(Ai[j], ysign * yi[j], x, kind) for j in idx[i]], axis=0)
        out.append(g + reg_grad(x, lam, reg))
    return np.array(out)


def sigma2_workers(A, y, counts, x, kind):
    """(1/m_i) Σ_j ‖∇f_ij(x) − ∇f_i(x)‖² by enumerating every sample j of every worker."""
    out = []
    for Ai, yi in blocks(A, y, counts):
        G = np.array([sample_grad(a, t, x, kind) for a, t in zip(Ai, yi, strict=True)])
        out.append(np.mean(np.sum((G - G.mean(axis=0)) ** 2, axis=1)))
    return np.array(out)


def write_libsvm(path, rows, labels):
    """Write sparse rows {index (1-based): value} with labels in LIBSVM text format."""
    with open(path, "w") as fh:
        for lab, row in zip(labels, rows, strict=True):
            fh.write(str(lab) + "".join(f" {k}:{v!r}" for k, v in sorted(row.items())) + "\n")
