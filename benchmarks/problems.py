"""Speed of the problem oracles (issue 3). Run: NUMBA_CACHE_DIR=.numba_cache python benchmarks/problems.py

1. All-n stochastic gradients in one call, n = 20, d = 100, batch 1 (target < 20 µs per call),
   measured on pre-drawn samples with a reused output buffer; draw() is timed separately.
2. Gaussian noise: ns per standard normal of byzref.gaussian (the synthetic problems' noise) and of
   NumPy's ``standard_normal`` on the run's SFC64 stream, for n·d = 2·10³ and 2·10⁷ per draw.
3. Logistic regression at a9a's size (32,561 × 123, synthetic dense data: the real file is not
   needed), one full gradient vs the time NumPy needs to read the data matrix once
   (target ≤ 3×; reference = np.add.reduce(A, axis=0), also shown: A.sum() and A @ v).
Times are medians over many calls after a warm-up call (which includes numba compilation).
"""

from __future__ import annotations

import platform
import sys
import time
from pathlib import Path

import numpy as np

# this script is named like the package it measures: keep its own folder off the import path
_here = Path(__file__).resolve().parent
sys.path[:] = [q for q in sys.path if Path(q or ".").resolve() != _here]

from problems import PROBLEMS, build_problem  # noqa: E402
from problems.datasets import make_classification  # noqa: E402
from problems.logreg_nonconvex import LogregNonconvex  # noqa: E402


def median_us(fn, repeat=2000) -> float:
    fn()
    ts = np.empty(repeat)
    for r in range(repeat):
        t = time.perf_counter_ns()
        fn()
        ts[r] = time.perf_counter_ns() - t
    return float(np.median(ts)) / 1e3


def small_oracles(n=20, d=100) -> None:
    print(f"## all-n oracles, n = {n}, d = {d}, batch 1 (median µs per call; target stoch_grads < 20 µs)")
    print(f"{'problem':<22}{'stoch_grads':>12}{'(no out)':>10}{'pair':>8}{'draw':>8}{'worker_grads':>14}")
    rng = np.random.default_rng(0)
    for name in PROBLEMS.names():
        extra = {} if name in ("quadratic", "nonconvex_synthetic") else {"d": d, "samples_per_worker": 100}
        _row(name, build_problem({"name": name, "d": d, **extra}, rng, n=n, f=4), rng)
    _row("(curvature noise)", build_problem({"name": "nonconvex_synthetic", "d": d, "curvature_std": 0.1},
                                            rng, n=n, f=4), rng)


def _row(label, p, rng) -> None:
    x, y = p.x0(), p.x0() + 0.1
    s = p.draw(rng, 1)
    out, out2 = np.empty((p.n, p.d)), np.empty((p.n, p.d))
    t_sg = median_us(lambda: p.stoch_grads(x, s, out))
    t_sg_new = median_us(lambda: p.stoch_grads(x, s))
    t_pair = median_us(lambda: p.stoch_grads_pair(x, y, s, out, out2))
    t_draw = median_us(lambda: p.draw(rng, 1))
    t_wg = median_us(lambda: p.worker_grads(x, out))
    print(f"{label:<22}{t_sg:>12.2f}{t_sg_new:>10.2f}{t_pair:>8.2f}{t_draw:>8.2f}{t_wg:>14.2f}")


def gaussian_noise() -> None:
    from byzref.gaussian import draw_seeds, normal_rows
    from byzref.rng import stream

    print("\n## standard normals (ns per value; byzref.gaussian vs NumPy standard_normal, SFC64 stream)")
    rng = stream(0, "samples")
    for rows, length, repeat in ((20, 100, 2000), (20, 10**6, 5)):
        out = np.empty(rows * length)
        ours = median_us(lambda r=rows, n=length, o=out: normal_rows(draw_seeds(rng), r, n, out=o), repeat)
        npy = median_us(lambda o=out: rng.standard_normal(out=o), repeat)
        size = rows * length
        print(f"n·d = {size:>10,}: byzref.gaussian {ours * 1e3 / size:6.2f}   NumPy {npy * 1e3 / size:6.2f}"
              f"   ratio {npy / ours:4.1f}×")


def a9a_full_gradient(n=20, N=32561, d=123) -> None:
    mib = N * d * 8 / 2**20
    print(f"\n## logistic regression full gradient at a9a's size ({N} × {d}, float64, {mib:.1f} MiB), "
          f"n = {n} workers (median ms)")
    rng = np.random.default_rng(1)
    ds = make_classification(rng, N, d)
    A = ds.A / np.linalg.norm(ds.A, axis=1, keepdims=True)
    counts = np.full(n, N // n)
    counts[: N % n] += 1
    t = time.perf_counter()
    p = LogregNonconvex.from_arrays(A, ds.y, counts, f=0)
    print(f"construction incl. constants and L-BFGS for f_upper: {time.perf_counter() - t:.2f} s")
    x = rng.standard_normal(d) * 0.1
    v = rng.standard_normal(d)
    out = np.empty((n, d))
    ref = median_us(lambda: np.add.reduce(p._A, axis=0), 200) / 1e3
    rows = [("np.add.reduce(A, axis=0)  [one read, reference]", ref),
            ("A.sum()", median_us(lambda: p._A.sum(), 200) / 1e3),
            ("A @ v", median_us(lambda: p._A @ v, 200) / 1e3),
            ("problem.grad(x)        (∇f, all workers good)", median_us(lambda: p.grad(x), 200) / 1e3),
            ("problem.worker_grads(x) (all n ∇f_i)", median_us(lambda: p.worker_grads(x, out), 200) / 1e3)]
    for label, ms in rows:
        print(f"{label:<50}{ms:>8.3f} ms  {ms / ref:>5.2f}× reference")


if __name__ == "__main__":
    import numba

    print(f"# {platform.processor() or platform.machine()}, python {platform.python_version()}, "
          f"numpy {np.__version__}, numba {numba.__version__}, "
          f"NUMBA_NUM_THREADS={numba.config.NUMBA_NUM_THREADS}")
    small_oracles()
    gaussian_noise()
    a9a_full_gradient()
