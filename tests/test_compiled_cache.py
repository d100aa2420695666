"""Where the compiled loops live: created once, readable, a fallback when the cache folder is unwritable."""

import os

import numpy as np
import pytest
from numba import njit

import byzref.attacks._kernels as _attack_kernels
import byzref.compiled as compiled
from byzref.config import build
from byzref.engine import _Simulation
from byzref.kernels import bind, template

CFG = {"seed": 1, "n": 5, "f": 1, "T": 10, "record": {"every": 1},
       "problem": {"name": "nonconvex_synthetic", "d": 4},
       "algorithm": {"name": "byz_ef21", "gamma": 0.05}, "compressor": "identity", "aggregator": "cwtm",
       "attack": "sign_flip"}


def test_a_module_file_is_created_once_and_never_replaced(tmp_path):
    path = compiled._write_module(tmp_path, "byzref_loop_x", "A = 1\n")
    stat = path.stat()
    assert oct(stat.st_mode & 0o777) == oct(0o644)
    assert compiled._write_module(tmp_path, "byzref_loop_x", "A = 1\n") == path
    assert path.stat().st_ino == stat.st_ino and path.stat().st_mtime_ns == stat.st_mtime_ns
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_an_unwritable_cache_folder_falls_back_to_one_folder_with_a_warning(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("BYZREF_CACHE_DIR", str(blocker / "loops"))  # below a file: cannot be created
    monkeypatch.setattr(compiled, "_MODULES", {})
    monkeypatch.setattr(compiled, "_WARNED", [])
    sim = _Simulation(build(CFG), fast=False)
    want = r"cannot write compiled loops to .*file/loops.*; using .*byzref_loops_"
    with pytest.warns(RuntimeWarning, match=want):
        run = compiled.CompiledRun(sim)
    assert "byzref_loops_" in run.mod.__file__


def test_runs_of_one_combination_share_the_entry_point_and_keep_their_numbers():
    """The second run of a combination in a process skips typing its arguments (the entry point is kept
    per loop and argument fingerprint) and still gives the numbers of a run typed afresh."""
    import byzref.compiled as compiled
    from byzref.engine import run

    cfg = {"seed": 5, "n": 7, "f": 2, "T": 30, "record": {"every": 3},
           "problem": {"name": "nonconvex_synthetic", "d": 6},
           "algorithm": {"name": "byz_dm21", "gamma": 0.05, "eta": 0.3},
           "compressor": {"name": "top_k", "k": 2}, "aggregator": "cwtm", "attack": "alie"}
    first = run(cfg, fast=True)
    kept = dict(compiled._ENTRIES)
    assert kept, "the first run keeps its entry point"
    second = run({**cfg, "seed": 6}, fast=True)
    assert compiled._ENTRIES == kept  # no new entry: the fingerprint matched
    compiled._ENTRIES.clear()
    fresh = run({**cfg, "seed": 6}, fast=True)
    assert second.summary == fresh.summary and first.summary != second.summary
    for k in fresh.curves:
        np.testing.assert_array_equal(second.curves[k], fresh.curves[k])


def test_a_finished_compiled_run_frees_its_arrays_without_the_garbage_collector(monkeypatch):
    """The compiled run keeps the run's arrays, not the run: a reference cycle between the two kept
    every state array (GBs at d = 10⁶) alive until the cyclic collector ran, so back-to-back runs in a
    sweep process held several runs' memory at once."""
    import gc
    import weakref

    from byzref.engine import run

    made = []
    init = compiled.CompiledRun.__init__

    def recording_init(self, *args, **kwargs):
        init(self, *args, **kwargs)
        made.append((weakref.ref(self), weakref.ref(self.G)))

    monkeypatch.setattr(compiled.CompiledRun, "__init__", recording_init)
    gc.disable()
    try:
        run(CFG, fast=True)
        assert len(made) == 1
        assert made[0][0]() is None and made[0][1]() is None
    finally:
        gc.enable()


def test_a_kernel_is_prepared_only_when_its_run_goes_compiled(monkeypatch):
    """cwtm compiles its unrolled network in its kernel's ``prepare``: not for a Python-loop run, nor for
    a run that ``auto`` leaves in Python (a combination not compiled yet), once for a compiled run."""
    import byzref.aggregators.cwtm as cwtm
    from byzref.engine import run

    calls = []
    real = cwtm.unrolled_trim
    def recording(n, b, compile_new=True):
        calls.append((n, b, compile_new))
        return real(n, b, compile_new)

    monkeypatch.setattr(cwtm, "unrolled_trim", recording)
    python = run(CFG, fast=False)
    monkeypatch.setenv("BYZREF_ENGINE", "auto")
    monkeypatch.setattr(compiled, "is_compiled", lambda name: False)  # a short run: auto stays in Python
    auto = run(CFG)
    assert calls == []
    fast = run(CFG, fast=True)
    assert calls == [(5, 1, True)]  # n = 5, cwtm with b = f = 1
    monkeypatch.setattr(compiled, "is_compiled", lambda name: True)  # its loop is compiled: a short run goes
    auto_compiled = run(CFG)  # compiled, but may not compile anything new
    assert calls == [(5, 1, True), (5, 1, False)]
    for r in (auto, fast, auto_compiled):
        assert r.summary == python.summary
        for k in python.curves:
            np.testing.assert_array_equal(r.curves[k], python.curves[k])


def test_the_fingerprint_tells_apart_what_numba_types_apart():
    from byzref.compiled import _fingerprint

    a = np.zeros((3, 4))
    ro = a.copy()
    ro.flags.writeable = False
    assert _fingerprint((a, 1, 2.0)) == _fingerprint((np.ones((5, 2)), 7, 0.5))
    assert _fingerprint(a) != _fingerprint(ro)
    assert _fingerprint(a) != _fingerprint(a.T)           # C versus F layout
    assert _fingerprint(a) != _fingerprint(a[:, ::2])     # non-contiguous
    assert _fingerprint(a) != _fingerprint(a.astype(np.float32))
    assert _fingerprint(1) != _fingerprint(1.0) and _fingerprint(True) != _fingerprint(1)
    assert _fingerprint(1) != _fingerprint(2**63)
    assert _fingerprint((1, 2)) != _fingerprint((1, 2, 3))
    assert _fingerprint(np.uint64(3)) != _fingerprint(np.int64(3))
    rec_a, rec_b = np.dtype([("a", "f8"), ("b", "f8")]), np.dtype([("a", "i8"), ("b", "i8")])
    assert _fingerprint(np.zeros(2, rec_a)) != _fingerprint(np.zeros(2, rec_b))  # same size, other fields
    from collections import namedtuple

    assert _fingerprint(namedtuple("P", "a b")(1, 2)) != _fingerprint((1, 2))
    assert _fingerprint([1, 2]) != _fingerprint([1.0, 2.0])
    from numba import njit

    f1, f2 = njit(lambda v: v), njit(lambda v: v + 1)
    assert _fingerprint((f1, 1)) != _fingerprint((f2, 1))   # each jitted function is its own Numba type


_NRT_PROBE = """
import json, sys
import numpy as np
from numba.core.runtime import rtsys
from byzref.engine import run
cfg = json.loads(sys.argv[1])
run({**cfg, "T": 5}, fast=True)  # compiles (or loads) the loop and every kernel
out = []
for T in (20, 400):
    before = rtsys.get_allocation_stats()
    run({**cfg, "T": T}, fast=True)
    after = rtsys.get_allocation_stats()
    out.append([(after.alloc - after.free) - (before.alloc - before.free),
                (after.mi_alloc - after.mi_free) - (before.mi_alloc - before.mi_free)])
print(json.dumps(out))
"""


@pytest.mark.parametrize("cfg", [
    CFG,
    {"seed": 2, "n": 9, "f": 2, "T": 10, "record": {"every": 1},
     "problem": {"name": "logreg_nonconvex", "data": "synthetic", "d": 5, "samples_per_worker": 6},
     "algorithm": {"name": "byz_dm21", "gamma": 0.05, "eta": 0.2}, "compressor": {"name": "top_k", "k": 2},
     "aggregator": "nnm+cwtm", "attack": "label_flip"},
])
def test_the_loop_without_reference_counting_leaks_nothing(cfg):
    """The loop is compiled without reference counting (byzref._driver.advance, ``_nrt=False``): an
    array that a kernel allocated and handed back to it would never be freed. Numba's own counts of
    allocations and frees must balance over a run, for 20 iterations as for 400."""
    import json
    import subprocess
    import sys

    env = {**os.environ, "NUMBA_NRT_STATS": "1"}
    res = subprocess.run([sys.executable, "-c", _NRT_PROBE, json.dumps(cfg)], capture_output=True, text=True,
                         env=env, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    assert json.loads(res.stdout.strip().splitlines()[-1]) == [[0, 0], [0, 0]]


@njit
def _helper(x):  # pragma: no cover - compiled
    return x[1:]


@njit
def _kernel(x):  # pragma: no cover - compiled
    return x[0]


@njit
def _deep(x):  # pragma: no cover - compiled
    return x[:1]


@njit(inline="always")
def _inlined(x):  # pragma: no cover - compiled
    return _deep(x)[0]


@template
def _template(x):  # pragma: no cover - compiled
    return _helper(x)[0] + _inlined(x) + _attack_kernels.col_mean(x)


def test_bind_keeps_reference_counting_in_what_the_loop_calls():
    """Numba lets a jitted function inherit the no-reference-counting setting of the loop that compiles
    it; bind must pin every jitted function the loop calls directly (a kernel, those a template names,
    and those an inlined function names) to keep it, or a helper that allocates or returns a view would
    be compiled unsafely and then reused by callers that count references."""
    for fn in (_helper, _kernel, _deep, _inlined, _attack_kernels.col_mean):
        fn.targetoptions.pop("_nrt", None)
    assert bind(_kernel) is _kernel and _kernel.targetoptions["_nrt"] is True
    bind(_template)
    assert _helper.targetoptions["_nrt"] is True and _deep.targetoptions["_nrt"] is True
    assert _attack_kernels.col_mean.targetoptions["_nrt"] is True  # through a module attribute
