"""Aggregator speed and extra memory.

Run:  NUMBA_CACHE_DIR=.numba_cache python benchmarks/aggregators.py

1. Time per call at (n, d) = (20, 100) (f = 4), what the engine pays every iteration, through the
   public ``evaluate`` (validation included), against plain NumPy versions of the same rule.
2. Time per call at (20, 10⁶) for the coordinate-wise rules, krum/nnm and cclip.
3. Extra peak memory of cwmed at (20, 10⁶): peak RSS of a fresh process after the call minus
   before it (X itself is 160 MB); the kernel needs one (n, 512) scratch block and the output.
Times are medians over repeated calls after a warm-up call (which includes numba compilation).
"""

from __future__ import annotations

import platform
import resource
import subprocess
import sys
import time

import numpy as np

from byzref.aggregators import build_aggregator

F = 4
RULES = ["mean", "cwmed", "cwtm", "meamed", "krum", "multikrum", "gm", "cclip", "nnm+cwtm",
         "bucketing(2)+cwmed"]
NUMPY = {
    "cwmed": lambda X: np.median(X, axis=0),
    "cwtm": lambda X: np.sort(X, axis=0)[F:X.shape[0] - F].mean(axis=0),
}


def per_call(fn, reps: int) -> float:
    fn()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def table(d: int, rules, reps: int) -> None:
    X = np.random.default_rng(0).standard_normal((20, d))
    print(f"\n(n, d) = (20, {d}), f = {F}: median time per call")
    for spec in rules:
        agg = build_aggregator(spec, f=F)
        rng = np.random.default_rng(1)
        t = per_call(lambda agg=agg, rng=rng: agg.evaluate(X, rng), reps)
        line = f"  {spec:<22} {t * 1e6:12.1f} µs"
        if spec in NUMPY:
            tb = per_call(lambda spec=spec: NUMPY[spec](X), reps)
            line += f"   NumPy {tb * 1e6:12.1f} µs  ({tb / t:.1f}×)"
        print(line)


def _memory_child() -> None:
    X = np.random.default_rng(0).standard_normal((20, 10**6))
    agg = build_aggregator("cwmed", f=F)
    agg.evaluate(X[:, :1000])  # compile / load the kernel before measuring
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    agg.evaluate(X)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"\ncwmed at (20, 10⁶): extra peak RSS {(after - before) / 1024:.1f} MB "
          f"(X is {X.nbytes / 2**20:.0f} MB)")


def main() -> None:
    if sys.argv[1:] == ["--memory-child"]:
        _memory_child()
        return
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}")
    table(100, RULES, 2000)
    table(10**6, ["mean", "cwmed", "cwtm", "meamed", "krum", "nnm+cwtm", "cclip"], 3)
    subprocess.run([sys.executable, __file__, "--memory-child"], check=True)


if __name__ == "__main__":
    main()
