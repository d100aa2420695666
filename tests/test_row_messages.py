"""Row-streamed EF21 messages: the compiled loop keeps a one-row message buffer when nothing reads the
block's messages (AlgorithmKernel.row_messages) and the block is large, with the same numbers as the
reference loop. Most tests lower the size threshold so that small problems stream."""

import numpy as np
import pytest

import byzref.compiled as compiled
from byzref.config import build
from byzref.engine import _Simulation, run

N, F, D = 9, 2, 12


@pytest.fixture
def stream_small(monkeypatch):
    monkeypatch.setattr(compiled, "ROW_MESSAGES_MIN_ENTRIES", 0)


NO_ETA = ("byz_ef21", "byz_ef21_sgd", "byz_vr_marina")


def _cfg(alg, target, comp=None):
    return {"seed": 3, "n": N, "f": F, "T": 40, "record": {"every": 1},
            "problem": {"name": "nonconvex_synthetic", "d": D},
            "algorithm": {"name": alg, "gamma": 0.05, **({} if alg in NO_ETA else {"eta": 0.5})},
            "compressor": comp or {"name": "top_k", "k": 3}, "aggregator": "cwtm",
            "attack": {"name": "alie", "target": target}}


@pytest.mark.parametrize("alg,target,rows", [
    ("byz_dm21", "state", 1), ("byz_ef21_sgdm", "state", 1), ("byz_ef21", "state", 1),
    ("byz_ef21_sgd", "state", 1),
    ("byz_dm21", "message", N - F),      # the attack reads the good messages
    ("byz_vr_dm21", "state", N - F),     # STORM's second gradient buffer holds s(xᵗ)
    ("byz_vr_marina", "state", N - F),   # not an EF21 method: keeps its buffer
])
def test_the_message_buffer_is_one_row_only_when_nothing_reads_it(alg, target, rows, stream_small):
    comp = {"name": "rand_k", "k": 3} if alg == "byz_vr_marina" else None
    sim = _Simulation(build(_cfg(alg, target, comp)), fast=True)
    loop = compiled.CompiledRun(sim)
    assert loop.good[2].shape == (rows, D)


@pytest.mark.parametrize("comp", [{"name": "top_k", "k": 3}, {"name": "rand_k_biased", "k": 3}])
def test_row_streamed_messages_give_the_reference_loop_s_numbers(comp, stream_small):
    cfg = _cfg("byz_dm21", "state", comp)
    fast, ref = run(cfg, fast=True), run(cfg, fast=False)
    assert fast.status == ref.status and fast.summary == ref.summary
    for key in ref.curves:
        np.testing.assert_array_equal(fast.curves[key], ref.curves[key])


@pytest.mark.parametrize("threshold,rows", [(None, N - F), ((N - F) * D + 1, N - F), ((N - F) * D, 1)])
def test_only_a_block_of_at_least_the_threshold_s_entries_streams(threshold, rows, monkeypatch):
    if threshold is not None:
        monkeypatch.setattr(compiled, "ROW_MESSAGES_MIN_ENTRIES", threshold)
    sim = _Simulation(build(_cfg("byz_dm21", "state")), fast=True)
    assert compiled.CompiledRun(sim).good[2].shape == (rows, D)
