"""A sweep through a real dask.distributed LocalCluster (scheduler + 2 worker processes on loopback)
gives a store equal to a serial run's bit for bit, through ``byzref sweep --scheduler ADDRESS``."""

import pytest
from test_sweep import _assert_same_results

from byzref.cli import main
from byzref.sweep import SerialExecutor, expand, load_sweep, run_sweep

distributed = pytest.importorskip("distributed")

SWEEP = """
seed = [0, 1]
n = 6
f = 1
T = 200
aggregator = "nnm+cwtm"
attack = ["alie", "ipm"]
record = {every = 20}
[problem]
name = "quadratic"
d = 10
sigma2 = 0.1
[[case]]
algorithm = {name = "byz_dm21", gamma = 0.05, eta = 0.2}
compressor = {name = "top_k", k = 3}
[[case]]
algorithm = {name = "byz_dasha_page", gamma = 0.05, p = 0.3}
compressor = {name = "rand_k", k = 3}
"""


def test_dask_local_cluster_equals_serial_bit_for_bit(tmp_path, capsys):
    sweep_file = tmp_path / "sweep.toml"
    sweep_file.write_text(SWEEP)
    configs = expand(load_sweep(sweep_file))
    assert len(configs) == 8
    serial = run_sweep(configs, tmp_path / "serial", executor=SerialExecutor())
    assert serial["ok"] + serial["stalled"] == 8 and serial["diverged"] == 0
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        rc = main(["sweep", str(sweep_file), "--out", str(tmp_path / "dask"),
                   "--scheduler", cluster.scheduler_address])
        assert rc == 0
        ran = cluster.scheduler.task_prefixes["run_one"].state_counts  # the runs went to the cluster
        assert ran["memory"] == 8
    totals = f"{serial['ok']} ok, {serial['stalled']} stalled, 0 diverged, 0 failed"
    assert totals in capsys.readouterr().out
    _assert_same_results(tmp_path / "serial", tmp_path / "dask")
