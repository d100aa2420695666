"""Where the compiled loops live: created once, readable, a fallback when the cache folder is unwritable."""

import os

import pytest

import byzref.compiled as compiled
from byzref.config import build
from byzref.engine import _Simulation

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
