"""Engine speed: B1, B2, B3 and linear scaling against a plain vectorized NumPy baseline, and
M1–M11: the compiled engine against the Python reference loop of the same configuration.

Run:  NUMBA_CACHE_DIR=.numba_cache python benchmarks/engine.py [--json] [--quick] [--rows M1,M3,B2,...]

(--rows takes any of B1, B2, B3, S (scaling), M1 … M11; default all. --quick divides every T by 10.)
The engine side always runs with ``fast=True``: a component without a kernel is an error (the row
prints "no kernel yet: …"), never a silent fallback to the Python loop.

B1  Byz-DM21, n = 20 (f = 4), d = 100, top_k(k = 10), cwtm, alie, nonconvex_synthetic, batch 1:
    target ≥ 34,000 it/s (0.9 × the 37,800 it/s of the old fused path measured on this machine);
    the speedup over the NumPy baseline is printed for information.
B2  the same with d = 10⁶, top_k(k = 10⁴), cwmed: target ≥ 5× the baseline per iteration; peak
    memory ≤ (3 state + 2 working arrays) × n × d × 8 B + 300 MB (measured as the peak RSS of a
    fresh process that runs only the engine and loads its loop from the on-disk cache: the benchmark
    compiles the combination at d = 100 first. A process that compiles the loop itself holds about
    200 MB more, Numba's compiler state, whatever n and d). Engine (3 fresh processes × 3 timed pairs) and
    baseline (3 runs) alternate, and their medians are compared.
B3  Byz-VR-DM21 as B1: target ≥ 25,400 it/s (0.9 × the old fused path's 28,200 it/s).
B1 and B3 are the medians of 3 measurements, alternating with the baseline's.
Scaling: time per iteration for three T and three n·d.

M1–M11 (table ``M_ROWS`` below): each row runs one configuration twice per repetition, compiled
(``fast=True``) then reference (``fast=False``), three repetitions alternated, after a warm-up run of
each (compilation excluded). A measurement is (time of T iterations − time of 1 iteration), so the
per-run setup (building the loop, ~10 ms for the engine) is excluded on both sides; the medians of
the iterations per second are compared, and the ratio engine / reference must reach the row's
target. T is chosen so that one reference run takes about 1–2 s on a 2-core machine. M11
(d = 10⁶) runs in a fresh child process and measures (time of T + 1 iterations − time of 1) / T.
The runs record 100 log-spaced checkpoints (--quick: 10 in T/10 iterations, the same density).
With --quick an engine run of a d = 100 row lasts only ~10–50 ms, comparable to the noise of the
~10 ms setup that is subtracted: its ratios are a smoke test, the full run's are the measurement.

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

import numba
import numpy as np
from scipy.stats import norm

_here = Path(__file__).resolve().parent
sys.path[:] = [q for q in sys.path if Path(q or ".").resolve() != _here]

from byzref.config import build  # noqa: E402
from byzref.engine import run  # noqa: E402
from byzref.errors import ConfigError  # noqa: E402
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
    run(spec, fast=True)  # warm-up (compilation)
    t_small = time.perf_counter()
    run(spec, fast=True)
    t_small = time.perf_counter() - t_small
    spec = replace(build(config(n, f, d, k, agg, alg, T=T)), problem=prob)
    t = time.perf_counter()
    run(spec, fast=True)
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
    run(spec, fast=True)
    peak = _hwm_mb()
    one = replace(build(config(n, f, d, k, agg, T=1)), problem=prob)
    more = replace(build(config(n, f, d, k, agg, T=T + 1)), problem=prob)
    per_it = []
    for _ in range(repeats):
        t = time.perf_counter()
        run(one, fast=True)
        t1 = time.perf_counter() - t
        t = time.perf_counter()
        run(more, fast=True)
        per_it.append((time.perf_counter() - t - t1) / T)
    print(json.dumps({"rss_at_start_mb": base, "rss_before_run_mb": before, "peak_rss_mb": peak,
                      "engine_s_per_it": float(np.median(per_it)), "engine_s_per_it_all": per_it}))


# --- M1–M11: compiled engine against the Python reference loop of the same configuration ------------

_LOGREG = {"name": "logreg_nonconvex", "data": "breast_cancer"}
_SYNTH = {"name": "nonconvex_synthetic", "d": 100}
_DM21 = {"name": "byz_dm21", "gamma": 0.05, "eta": 0.1}

#: row -> (description, changes to the base config of ``m_config``, T, target ratio). T is sized so
#: that one reference run takes about 1–2 s on the 2-core development machine under load ~4 (the
#: reference loop is vectorized over the workers, with jitted helpers: 5,000–13,000 it/s at d = 100).
M_ROWS = {
    "M1": ("logreg bc, nnm+gm, sign_flip, top1, f=8",
           {"f": 8, "problem": _LOGREG, "compressor": {"name": "top_k", "k": 1}, "aggregator": "nnm+gm",
            "attack": {"name": "sign_flip"}}, 9000, 8.0),
    "M2": ("logreg bc, nnm+cwtm, alie, top1, f=8",
           {"f": 8, "problem": _LOGREG, "compressor": {"name": "top_k", "k": 1}, "aggregator": "nnm+cwtm"},
           14000, 8.0),
    "M3": ("synth d=100, krum, alie", {"aggregator": "krum"}, 12000, 8.0),
    "M4": ("synth d=100, bucketing(s=2)+cwmed, alie", {"aggregator": "bucketing(s=2)+cwmed"}, 12000, 8.0),
    "M5": ("quadratic d=100, cwtm, alie", {"problem": {"name": "quadratic", "d": 100}}, 12000, 8.0),
    "M6": ("vr_marina p=0.1, rand10, cwtm, ipm",
           {"algorithm": {"name": "byz_vr_marina", "gamma": 0.05, "p": 0.1},
            "compressor": {"name": "rand_k", "k": 10}, "attack": {"name": "ipm"}}, 20000, 8.0),
    "M7": ("dasha_page, rand10, cwtm, ipm",
           {"algorithm": {"name": "byz_dasha_page", "gamma": 0.05}, "compressor": {"name": "rand_k", "k": 10},
            "attack": {"name": "ipm"}}, 20000, 8.0),
    "M8": ("logreg bc, nnm+cwmed, label_flip, top1, f=8",
           {"f": 8, "problem": _LOGREG, "compressor": {"name": "top_k", "k": 1}, "aggregator": "nnm+cwmed",
            "attack": {"name": "label_flip"}}, 6000, 8.0),
    "M9": ("synth d=100, cwtm, adaptive_alie", {"attack": {"name": "adaptive_alie"}}, 1000, 8.0),
    "M10": ("vr_dm21, cwtm, alie on message",
            {"algorithm": {"name": "byz_vr_dm21", "gamma": 0.05, "eta": 0.1},
             "attack": {"name": "alie", "target": "message"}}, 12000, 8.0),
    "M11": ("synth d=1e6, nnm+cwmed, alie, top 1e4",
            {"problem": {"name": "nonconvex_synthetic", "d": 10**6},
             "compressor": {"name": "top_k", "k": 10**4}, "aggregator": "nnm+cwmed"}, 10, 3.0),
}
B_TARGETS = {"B1": 34000.0, "B3": 25400.0}  # 0.9 × the old fused path's 37,800 and 28,200 it/s


def m_config(row: str, T: int, log: int = 100) -> dict:
    """The run config of row ``row`` with T iterations: n = 20, f = 4, Byz-DM21 (γ = 0.05, η = 0.1),
    top_k(k = 10), cwtm, alie on nonconvex_synthetic d = 100 unless the row changes it; ``log``
    log-spaced checkpoints (M11: only both ends)."""
    cfg = {"seed": 0, "n": 20, "f": 4, "T": T, "record": {"log": log}, "problem": _SYNTH,
           "algorithm": _DM21, "compressor": {"name": "top_k", "k": 10}, "aggregator": "cwtm",
           "attack": {"name": "alie"}}
    cfg.update(M_ROWS[row][1])
    if row == "M11":
        cfg["record"] = {"every": T}
    return cfg


def _timed_run(cfg: dict, fast: bool, keep: list | None = None) -> float:
    spec = build(cfg)  # outside the timer
    t = time.perf_counter()
    res = run(spec, fast=fast)
    t = time.perf_counter() - t
    if keep is not None:
        keep.append(res)
    return t


#: the smallest normal float64; below it a number is subnormal, and on many Intel processors each
#: operation that reads or produces one takes a microcode assist (tens of times slower)
TINY = float(np.finfo(np.float64).tiny)


def underflow_from(res) -> int | None:
    """First checkpoint iteration with ‖∇f(xᵗ)‖² < TINY, or None. By then the gradient's squares have
    underflowed: a run that converges to exactly 0 computes with subnormal numbers."""
    g, it = np.asarray(res.curves["grad_sq"]), np.asarray(res.curves["iteration"])
    hit = np.nonzero(g < TINY)[0]
    return int(it[hit[0]]) if hit.size else None


def m_row(row: str, T: int, log: int = 100, repeats: int = 3) -> dict:
    """Engine and reference iterations per second of ``row`` (medians of ``repeats`` alternated
    measurements of (time of T iterations − time of 1), after a warm-up run of each)."""
    one, full = m_config(row, 1), m_config(row, T, log)
    _timed_run(one, True)  # compilation; raises ConfigError when a component has no kernel
    _timed_run(one, False)
    eng, ref, setup, last = [], [], [], []
    for _ in range(repeats):
        for fast, out in ((True, eng), (False, ref)):
            t1 = _timed_run(one, fast)
            tT = _timed_run(full, fast, last if fast else None)
            out.append((T - 1) / (tT - t1) if tT > t1 else float("nan"))
            if fast:
                setup.append(t1)
    return {"T": T, "engine_it_per_s": _median(eng), "engine_it_per_s_all": eng,
            "reference_it_per_s": _median(ref), "reference_it_per_s_all": ref,
            "engine_run_of_1_s": float(np.median(setup)), "underflow_from": underflow_from(last[-1])}


def m11_child(T: int, repeats: int = 3) -> None:
    """In a fresh process: M11's time per iteration, (time of T + 1 iterations − time of 1) / T, for the
    engine and the reference loop alternated, ``repeats`` pairs each, after a warm-up run of each."""
    one = build(m_config("M11", 1))
    more = replace(build(m_config("M11", T + 1)), problem=one.problem)  # one d = 10⁶ instance
    out = {"T": T}
    try:
        run(one, fast=True)  # compilation
    except ConfigError as exc:
        print(json.dumps({"error": str(exc), "config_error": True}))
        return
    run(one, fast=False)
    per_it = {True: [], False: []}
    for _ in range(repeats):
        for fast in (True, False):
            t = time.perf_counter()
            run(one, fast=fast)
            t1 = time.perf_counter() - t
            t = time.perf_counter()
            run(more, fast=fast)
            per_it[fast].append((time.perf_counter() - t - t1) / T)
    eng, ref = ([1.0 / x if x > 0 else float("nan") for x in per_it[fast]] for fast in (True, False))
    out.update({"engine_it_per_s": _median(eng), "engine_it_per_s_all": eng,
                "reference_it_per_s": _median(ref), "reference_it_per_s_all": ref,
                "engine_s_per_it_all": per_it[True], "reference_s_per_it_all": per_it[False]})
    print(json.dumps(out))


def m11_fresh_process(T: int) -> dict:
    res = subprocess.run([sys.executable, __file__, "--m11-child", str(T)], capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"M11 child failed (exit {res.returncode}): {res.stderr.strip()[-2000:]}")
    out = json.loads(res.stdout.strip().splitlines()[-1])
    if out.get("config_error"):
        raise ConfigError(out["error"])
    return out


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = float("nan")
    return {"platform": platform.platform(), "cpu": cpu, "cpus": os.cpu_count(), "numba": numba.__version__,
            "numpy": np.__version__, "python": platform.python_version(), "load_1min": load}


def _guard(fn, *args):
    """``fn(*args)``, or {"error": ...} (a component without a kernel is "no kernel yet")."""
    try:
        return fn(*args)
    except ConfigError as exc:
        msg = str(exc)
        return {"error": f"no kernel yet: {msg}" if "cannot run compiled" in msg else f"config error: {msg}"}
    except Exception as exc:  # one broken row must not hide the others
        return {"error": f"{type(exc).__name__}: {exc}"}


def _median(xs: list[float]) -> float:
    """Median of the valid measurements (one whose T-iteration run was not slower than its 1-iteration
    run is NaN: noise larger than the signal)."""
    ok = [x for x in xs if np.isfinite(x)]
    return float(np.median(ok)) if ok else float("nan")


def _rate(r: float) -> str:
    if not np.isfinite(r):
        return "n/a"
    return f"{r:,.0f}" if r >= 100 else f"{r:.3g}"


ALL_ROWS = ["B1", "B2", "B3", "S", *M_ROWS]


def _b_rows(args, q: bool, wanted: list[str], out: dict) -> None:
    """B1 and B3 (engine and NumPy baseline alternated), B2 (fresh processes) and the scaling part."""
    T1 = 3000 if q else 20000
    Tb = 2000 if q else 5000
    for key, alg in (("B1", "byz_dm21"), ("B3", "byz_vr_dm21")):
        if key not in wanted:
            continue

        def measure(alg=alg):
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
            return entry

        out[key] = _guard(measure)
        if "error" not in out[key]:
            out[key]["target_it_per_s"] = B_TARGETS[key]
            out[key]["pass"] = out[key]["engine_it_per_s"] >= B_TARGETS[key]
        _progress(args, key, out[key])

    if "B2" in wanted:
        # B2 is memory-bandwidth bound on both sides, and this machine's bandwidth drifts: engine and
        # baseline are measured alternately (a fresh engine process, then the baseline) and the
        # medians are compared
        def measure_b2():
            d2, k2, T2 = 10**6, 10**4, (3 if q else 8)
            # compile (or load) the combination here, at d = 100, so that the children load it from the
            # on-disk cache: a process that compiles a loop keeps ~200 MB of Numba's compiler state,
            # which is not the run's memory (the bound is about the arrays of a run)
            engine_time(20, 4, 100, 10, "cwmed", 1)
            mems, tb2 = [], []
            for _ in range(1 if q else 3):
                mems.append(fresh_process_run(20, 4, d2, k2, "cwmed", T2))
                tb2.append(numpy_byz_dm21(20, 4, d2, k2, "cwmed", T2) / T2)
            te2 = [t for m in mems for t in m["engine_s_per_it_all"]]
            bound = (3 + 2) * 20 * d2 * 8 / 2**20 + 300
            peak = max(m["peak_rss_mb"] for m in mems)
            speedup = float(np.median(tb2) / np.median(te2))
            return {"rss_at_start_mb": max(m["rss_at_start_mb"] for m in mems),
                    "rss_before_run_mb": max(m["rss_before_run_mb"] for m in mems),
                    "peak_rss_mb": peak,
                    "engine_s_per_it": float(np.median(te2)), "engine_s_per_it_all": te2,
                    "numpy_s_per_it": float(np.median(tb2)), "numpy_s_per_it_all": tb2,
                    "speedup": speedup, "memory_bound_mb": bound, "pass": speedup >= 5.0 and peak <= bound}

        out["B2"] = _guard(measure_b2)
        _progress(args, "B2", out["B2"])

    if "S" in wanted:
        def measure_scaling():
            scale = {}
            for T in (2500, 5000, 10000):
                scale[f"T={T}, n*d=2000"] = engine_time(20, 4, 100, 10, "cwtm", T) / T * 1e6
            for d in (100, 1000, 10000):
                t = engine_time(20, 4, d, max(1, d // 10), "cwtm", 1000)
                scale[f"T=1000, n*d={20 * d}"] = t / 1000 * 1e6
            return scale

        out["scaling_us_per_it"] = _guard(measure_scaling)
        _progress(args, "S", out["scaling_us_per_it"])


def _m_rows(args, q: bool, wanted: list[str], out: dict) -> None:
    for row, (desc, _, T, target) in M_ROWS.items():
        if row not in wanted:
            continue
        if row == "M11":
            entry = _guard(m11_fresh_process, max(3, T // 10) if q else T)
        else:
            # --quick keeps the checkpoints per iteration (a checkpoint evaluates f and the
            # aggregation error, which would dominate 100 checkpoints in T/10 iterations)
            entry = _guard(m_row, row, max(10, T // 10), 10) if q else _guard(m_row, row, T)
        entry.update({"config": desc, "target_ratio": target})
        if "error" not in entry:
            entry["ratio"] = entry["engine_it_per_s"] / entry["reference_it_per_s"]
            entry["pass"] = bool(entry["ratio"] >= target)  # False when a side had no valid measurement
        out[row] = entry
        _progress(args, row, entry)


def _progress(args, key: str, entry: dict) -> None:
    """One line on stderr as each row finishes (the table comes at the end)."""
    if args.json:
        return
    if "error" in entry:
        note = entry["error"]
    elif "engine_it_per_s" in entry:
        note = f"engine {_rate(entry['engine_it_per_s'])} it/s"
    else:
        note = "done"
    print(f"  [{key} {note}]", file=sys.stderr, flush=True)


def _print_table(out: dict) -> None:
    m = out["machine"]
    print(f"machine: {m['platform']}; CPU {m['cpu']} ({m['cpus']} CPUs); numba {m['numba']}, numpy "
          f"{m['numpy']}, Python {m['python']}; load (1 min) at start {m['load_1min']:.1f}"
          + ("; --quick" if out.get("quick") else ""))
    verdict = {True: "PASS", False: "FAIL"}
    for key, label in (("B1", "B1 Byz-DM21 d=100:  "), ("B3", "B3 Byz-VR-DM21 d=100:")):
        if key not in out:
            continue
        b = out[key]
        if "error" in b:
            print(f"{label} {b['error']}")
            continue
        extra = (f", NumPy {b['numpy_it_per_s']:,.0f} it/s (speedup {b['speedup']:.1f}x)"
                 if "numpy_it_per_s" in b else "")
        ref = {"B1": "37,800", "B3": "28,200"}[key]
        print(f"{label} engine {b['engine_it_per_s']:,.0f} it/s{extra}   "
              f"(target ≥ {b['target_it_per_s']:,.0f} it/s = 0.9 × old fused path {ref} it/s)  "
              f"{verdict[b['pass']]}")
    if "B2" in out:
        b2 = out["B2"]
        if "error" in b2:
            print(f"B2 Byz-DM21 d=1e6:    {b2['error']}")
        else:
            rng_e = f"{min(b2['engine_s_per_it_all']) * 1e3:.0f}–{max(b2['engine_s_per_it_all']) * 1e3:.0f}"
            rng_b = f"{min(b2['numpy_s_per_it_all']) * 1e3:.0f}–{max(b2['numpy_s_per_it_all']) * 1e3:.0f}"
            print(f"B2 Byz-DM21 d=1e6:    engine {b2['engine_s_per_it'] * 1e3:.0f} ms/it ({rng_e}), NumPy "
                  f"{b2['numpy_s_per_it'] * 1e3:.0f} ms/it ({rng_b}), speedup {b2['speedup']:.1f}x "
                  f"(target ≥ 5x); "
                  f"peak RSS {b2['peak_rss_mb']:.0f} MB (before run {b2['rss_before_run_mb']:.0f} MB), bound "
                  f"{b2['memory_bound_mb']:.0f} MB  {verdict[b2['pass']]}")
    if "scaling_us_per_it" in out:
        scale = out["scaling_us_per_it"]
        if "error" in scale:
            print(f"scaling: {scale['error']}")
        else:
            print("scaling (µs per iteration):")
            for k, v in scale.items():
                print(f"  {k:<22} {v:8.1f}")
    rows = [r for r in M_ROWS if r in out]
    if not rows:
        return
    print()
    print("compiled engine (fast=True) vs Python reference loop (fast=False), same config, alternated, "
          "medians of 3:")
    head = f"{'row':<4} {'configuration':<44} {'T':>6} {'engine it/s':>12} {'ref it/s':>10} {'ratio':>7} " \
           f"{'target':>7}  result"
    print(head)
    print("-" * len(head))
    for row in rows:
        e = out[row]
        if "error" in e:
            print(f"{row:<4} {e['config']:<44} {'':>6} {e['error']}")
            continue
        target = f"≥ {e['target_ratio']:g}x"
        print(f"{row:<4} {e['config']:<44} {e['T']:>6} {_rate(e['engine_it_per_s']):>12} "
              f"{_rate(e['reference_it_per_s']):>10} {e['ratio']:>6.1f}x {target:>7}  {verdict[e['pass']]}")
    under = [(r, out[r]["underflow_from"]) for r in rows if out[r].get("underflow_from") is not None]
    if under:
        print("‖∇f‖² below the smallest normal double (2.2e-308), i.e. subnormal arithmetic, by the "
              "checkpoint at " + ", ".join(f"{r}: {t:,} of {out[r]['T']:,}" for r, t in under)
              + " (slow on many Intel processors, in both loops)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--quick", action="store_true", help="shorter runs (every T divided by 10)")
    ap.add_argument("--rows", default=",".join(ALL_ROWS),
                    help=f"comma-separated subset of {','.join(ALL_ROWS)} (S = scaling); default all")
    ap.add_argument("--child", nargs=6, help=argparse.SUPPRESS)
    ap.add_argument("--m11-child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        n, f, d, k, agg, T = args.child
        child(int(n), int(f), int(d), int(k), agg, int(T))
        return
    if args.m11_child is not None:
        m11_child(args.m11_child)
        return
    wanted = [r.strip().upper() for r in args.rows.split(",") if r.strip()]
    unknown = sorted(set(wanted) - set(ALL_ROWS))
    if unknown:
        ap.error(f"unknown row(s) {', '.join(unknown)}; allowed: {', '.join(ALL_ROWS)}")
    q = args.quick
    out = {"machine": machine(), "quick": q}
    _b_rows(args, q, wanted, out)
    _m_rows(args, q, wanted, out)
    if args.json:
        print(json.dumps(out, indent=1))
        return
    _print_table(out)


if __name__ == "__main__":
    main()
