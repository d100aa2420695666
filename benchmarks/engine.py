"""Engine speed (issue 4): B1, B2, B3 and linear scaling, against a plain vectorized NumPy baseline.

Run:  NUMBA_CACHE_DIR=.numba_cache python benchmarks/engine.py [--json] [--quick]

B1  Byz-DM21, n = 20 (f = 4), d = 100, top_k(k = 10), cwtm, alie, nonconvex_synthetic, batch 1:
    target ≥ 15,000 it/s and ≥ 5× the NumPy baseline.
B2  the same with d = 10⁶, top_k(k = 10⁴), cwmed: target ≥ 5× the baseline per iteration; peak
    memory ≤ (3 state + 2 working arrays) × n × d × 8 B + 300 MB (measured as the peak RSS of a
    fresh process that runs only the engine). Engine (3 fresh processes × 3 timed pairs) and
    baseline (3 runs) alternate, and their medians are compared.
B3  Byz-VR-DM21 as B1: target ≥ 8,000 it/s.
B1 and B3 are the medians of 3 measurements, alternating with the baseline's.
Scaling: time per iteration for three T and three n·d.

The baseline (``numpy_byz_dm21`` below) is the straightforward vectorized NumPy implementation of
the same run: argpartition Top-k, np.sort trimmed mean / np.median, mean − z·std ALIE, the
problem's gradient written with array expressions, and the good workers' (n − f)·d Gaussians per
iteration from ``Generator.standard_normal``. Both paths record ‖∇f(x^t)‖² every iteration. The
engine draws the same number of Gaussians with its own jitted generator (byzref.gaussian, about
4× faster per value than standard_normal; see benchmarks/problems.py), so the speedup includes
that: per iteration at B1 the noise is about 3 µs of the engine's ~15 µs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from scipy.stats import norm

_here = Path(__file__).resolve().parent
sys.path[:] = [q for q in sys.path if Path(q or ".").resolve() != _here]

from byzref.config import build  # noqa: E402
from byzref.engine import run  # noqa: E402
from problems.nonconvex_synthetic import NonconvexSynthetic  # noqa: E402


def instance(n, d, seed=0):
    rng = np.random.default_rng(seed)
    a = np.geomspace(0.01, 1.0, d)
    s = rng.standard_normal((n, d))
    s[: n - 4] -= s[: n - 4].mean(axis=0)
    x0 = 2.0 * rng.choice([-1.0, 1.0], size=d) * rng.uniform(0.5, 1.5, size=d)
    return a, 1.0, s, x0


def config(n, f, d, k, agg, alg="byz_dm21", T=1000):
    # log-spaced checkpoints for small d; for d = 10⁶ only the ends (a checkpoint costs an aggregation)
    record = {"log": 100} if d <= 10**4 else {"every": T}
    return {"seed": 0, "n": n, "f": f, "T": T, "record": record,
            "problem": {"name": "nonconvex_synthetic", "d": d, "sigma2": 1.0},
            "algorithm": {"name": alg, "gamma": 0.05, "eta": 0.1},
            "compressor": {"name": "top_k", "k": k}, "aggregator": agg, "attack": {"name": "alie"}}


def engine_time(n, f, d, k, agg, T, alg="byz_dm21"):
    """Wall time of the engine's loop for T iterations (setup and compilation excluded)."""
    a, lam, s, x0 = instance(n, d)
    prob = NonconvexSynthetic.from_arrays(a, lam, s, f=f, sigma2=1.0, x0=x0)
    spec = replace(build(config(n, f, d, k, agg, alg, T=1)), problem=prob)
    run(spec)  # warm-up (compilation)
    t_small = time.perf_counter()
    run(spec)
    t_small = time.perf_counter() - t_small
    spec = replace(build(config(n, f, d, k, agg, alg, T=T)), problem=prob)
    t = time.perf_counter()
    run(spec)
    return time.perf_counter() - t - t_small


def numpy_byz_dm21(n, f, d, k, agg, T, seed=0):
    """Vectorized NumPy Byz-DM21 (the baseline); returns the wall time of T iterations."""
    a, lam, s, x0 = instance(n, d)
    m = n - f
    rng = np.random.default_rng(seed)
    sd = np.sqrt(1.0 / d)
    z = norm.ppf((n - f - (n // 2 + 1 - f)) / (n - f))
    rows = np.arange(m)[:, None]

    def grads(x):
        return a * x + lam * 2 * x / (1 + x * x) ** 2 + s[:m] + sd * rng.standard_normal((m, d))

    def aggregate(G):
        if agg == "cwtm":
            return np.sort(G, axis=0)[f:n - f].mean(axis=0)
        return np.median(G, axis=0)

    t0 = time.perf_counter()
    x = x0.copy()
    v = grads(x)
    u, g = v.copy(), v.copy()
    G = np.empty((n, d))
    hist = np.empty(T)
    for t in range(T):
        gx = a * x + lam * 2 * x / (1 + x * x) ** 2
        hist[t] = gx @ gx
        G[:m] = g
        G[m:] = g.mean(axis=0) - z * g.std(axis=0, ddof=1)
        x = x - 0.05 * aggregate(G)
        v = 0.9 * v + 0.1 * grads(x)
        u = 0.9 * u + 0.1 * v
        D = u - g
        idx = np.argpartition(-np.abs(D), k - 1, axis=1)[:, :k]
        g = g.copy()
        g[rows, idx] += D[rows, idx]
    return time.perf_counter() - t0


def fresh_process_run(n, f, d, k, agg, T):
    """Peak RSS (MB) and time per iteration of the engine, measured in a fresh process."""
    out = subprocess.run([sys.executable, __file__, "--child", str(n), str(f), str(d), str(k), agg, str(T)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _hwm_mb() -> float:
    """Peak resident set size of this process (VmHWM; unlike ru_maxrss it is not inherited at fork)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(n, f, d, k, agg, T, repeats=3):
    """In a fresh process: peak memory of a T-iteration run, then the time per iteration
    ((time of T + 1 iterations − time of 1 iteration) / T, compilation excluded), as the median
    of ``repeats`` such pairs (a single pair at d = 10⁶ varies by up to 2× with page-fault and
    allocator timing)."""
    base = _hwm_mb()
    a, lam, s, x0 = instance(n, d)
    prob = NonconvexSynthetic.from_arrays(a, lam, s, f=f, sigma2=1.0, x0=x0)
    del a, s, x0
    spec = replace(build(config(n, f, d, k, agg, T=T)), problem=prob)
    before = _hwm_mb()
    run(spec)
    peak = _hwm_mb()
    one = replace(build(config(n, f, d, k, agg, T=1)), problem=prob)
    more = replace(build(config(n, f, d, k, agg, T=T + 1)), problem=prob)
    per_it = []
    for _ in range(repeats):
        t = time.perf_counter()
        run(one)
        t1 = time.perf_counter() - t
        t = time.perf_counter()
        run(more)
        per_it.append((time.perf_counter() - t - t1) / T)
    print(json.dumps({"rss_at_start_mb": base, "rss_before_run_mb": before, "peak_rss_mb": peak,
                      "engine_s_per_it": float(np.median(per_it)), "engine_s_per_it_all": per_it}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--quick", action="store_true", help="shorter runs")
    ap.add_argument("--child", nargs=6, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        n, f, d, k, agg, T = args.child
        child(int(n), int(f), int(d), int(k), agg, int(T))
        return
    q = args.quick
    out = {"machine": platform.platform(), "cpus": os.cpu_count()}

    T1 = 3000 if q else 20000
    Tb = 2000 if q else 5000
    for key, alg in (("B1", "byz_dm21"), ("B3", "byz_vr_dm21")):
        rates, base = [], []
        for _ in range(3):  # engine and baseline alternate; medians are compared
            rates.append(T1 / engine_time(20, 4, 100, 10, "cwtm", T1, alg))
            if alg == "byz_dm21":
                base.append(Tb / numpy_byz_dm21(20, 4, 100, 10, "cwtm", Tb))
        entry = {"engine_it_per_s": float(np.median(rates)), "engine_it_per_s_all": rates}
        if base:
            entry["numpy_it_per_s"] = float(np.median(base))
            entry["numpy_it_per_s_all"] = base
            entry["speedup"] = entry["engine_it_per_s"] / entry["numpy_it_per_s"]
        out[key] = entry

    # B2 is memory-bandwidth bound on both sides, and this machine's bandwidth drifts: engine and
    # baseline are measured alternately (a fresh engine process, then the baseline) and the
    # medians are compared
    d2, k2, T2 = 10**6, 10**4, (3 if q else 8)
    mems, tb2 = [], []
    for _ in range(1 if q else 3):
        mems.append(fresh_process_run(20, 4, d2, k2, "cwmed", T2))
        tb2.append(numpy_byz_dm21(20, 4, d2, k2, "cwmed", T2) / T2)
    te2 = [t for m in mems for t in m["engine_s_per_it_all"]]
    bound = (3 + 2) * 20 * d2 * 8 / 2**20 + 300
    out["B2"] = {"rss_at_start_mb": max(m["rss_at_start_mb"] for m in mems),
                 "rss_before_run_mb": max(m["rss_before_run_mb"] for m in mems),
                 "peak_rss_mb": max(m["peak_rss_mb"] for m in mems),
                 "engine_s_per_it": float(np.median(te2)), "engine_s_per_it_all": te2,
                 "numpy_s_per_it": float(np.median(tb2)), "numpy_s_per_it_all": tb2,
                 "speedup": float(np.median(tb2) / np.median(te2)), "memory_bound_mb": bound}

    scale = {}
    for T in (2500, 5000, 10000):
        scale[f"T={T}, n*d=2000"] = engine_time(20, 4, 100, 10, "cwtm", T) / T * 1e6
    for d in (100, 1000, 10000):
        scale[f"T=1000, n*d={20 * d}"] = engine_time(20, 4, d, max(1, d // 10), "cwtm", 1000) / 1000 * 1e6
    out["scaling_us_per_it"] = scale

    if args.json:
        print(json.dumps(out, indent=1))
        return
    print(f"machine: {out['machine']} ({out['cpus']} CPUs)")
    b1, b3, b2 = out["B1"], out["B3"], out["B2"]
    print(f"B1 Byz-DM21 d=100:   engine {b1['engine_it_per_s']:,.0f} it/s, NumPy {b1['numpy_it_per_s']:,.0f} "
          f"it/s, speedup {b1['speedup']:.1f}x   (targets 15,000 it/s, 5x)")
    print(f"B3 Byz-VR-DM21 d=100: engine {b3['engine_it_per_s']:,.0f} it/s   (target 8,000 it/s)")
    rng_e = f"{min(b2['engine_s_per_it_all']) * 1e3:.0f}–{max(b2['engine_s_per_it_all']) * 1e3:.0f}"
    rng_b = f"{min(b2['numpy_s_per_it_all']) * 1e3:.0f}–{max(b2['numpy_s_per_it_all']) * 1e3:.0f}"
    print(f"B2 Byz-DM21 d=1e6:   engine {b2['engine_s_per_it'] * 1e3:.0f} ms/it ({rng_e}), NumPy "
          f"{b2['numpy_s_per_it'] * 1e3:.0f} ms/it ({rng_b}), speedup {b2['speedup']:.1f}x (target 5x); "
          f"peak RSS "
          f"{b2['peak_rss_mb']:.0f} MB (before run {b2['rss_before_run_mb']:.0f} MB), bound "
          f"{b2['memory_bound_mb']:.0f} MB")
    print("scaling (µs per iteration):")
    for k, v in scale.items():
        print(f"  {k:<22} {v:8.1f}")


if __name__ == "__main__":
    main()
