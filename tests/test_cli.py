"""The command line: byzref info / run (configs of the algorithms)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from byzref.cli import apply_overrides, main
from byzref.results import load_result

ROOT = Path(__file__).resolve().parents[1]


def test_info_json_lists_every_registered_component(capsys):
    from byzref.aggregators import AGGREGATORS
    from byzref.algorithms import ALGORITHMS
    from byzref.attacks import ATTACKS
    from byzref.compressors import COMPRESSORS
    from problems import PROBLEMS

    assert main(["info", "--json"]) == 0
    table = json.loads(capsys.readouterr().out)
    for family, reg in [("compressors", COMPRESSORS), ("aggregators", AGGREGATORS), ("attacks", ATTACKS),
                        ("algorithms", ALGORITHMS), ("problems", PROBLEMS)]:
        assert [e["name"] for e in table[family]] == reg.names()
    top_k = next(e for e in table["compressors"] if e["name"] == "top_k")
    assert top_k["alpha"] == pytest.approx(top_k["params"]["k"] / 100)
    claim_ids = [e["name"] for e in table["claims"]]
    assert {"byz_dm21.rate", "byz_vr_dm21.rate", "neg.vr_without_storm"} <= set(claim_ids)
    quad = next(e for e in table["problems"] if e["name"] == "quadratic")
    assert quad["constants"]["B"] == 0.0


def test_run_writes_record_and_curves_and_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["run", str(ROOT / "examples" / "byz_dm21_alie.toml"), "--out", str(out),
            "--set", "T=300", "--set", "algorithm.eta=0.2"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    files = sorted(out.iterdir())
    assert [p.suffix for p in files] == [".json", ".npz"]
    res = load_result(files[0])
    assert res.config["T"] == 300 and res.config["algorithm"]["eta"] == 0.2
    assert res.status == "ok" and res.run_id in text
    assert res.curves["iteration"][-1] == 300
    with np.load(files[1], allow_pickle=False) as z:
        assert set(z.files) >= {"iteration", "grad_sq", "grad_sq_avg", "bits_up", "f_gap", "agg_err"}
    before = files[0].read_bytes()
    assert main(argv) == 2  # the same run again: never silently overwritten
    assert "never overwritten" in capsys.readouterr().err
    assert files[0].read_bytes() == before


def test_python_dash_m_entry_point(tmp_path):
    example = str(ROOT / "examples" / "byz_dm21_alie.toml")
    argv = ["run", example, "--out", str(tmp_path), "--set", "T=20", "--set", "algorithm.eta=7"]
    proc = subprocess.run([sys.executable, "-m", "byzref", *argv], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "eta = 7 is outside the allowed range (0, 1]" in proc.stderr


def test_overrides_parse_toml_literals():
    cfg = {"aggregator": "cwtm", "algorithm": {"name": "byz_dm21"}}
    apply_overrides(cfg, ["algorithm.gamma=0.5", "aggregator.b=2", "attack.name=alie", "record.log=10"])
    assert cfg == {"aggregator": {"name": "cwtm", "b": 2}, "algorithm": {"name": "byz_dm21", "gamma": 0.5},
                   "attack": {"name": "alie"}, "record": {"log": 10}}


def test_byzref_run_is_the_engine():
    import byzref
    from byzref.engine import run

    assert byzref.run is run
    res = byzref.run({"n": 2, "T": 300, "problem": {"name": "quadratic", "d": 3, "sigma2": 0.0},
                      "algorithm": {"name": "byz_ef21", "gamma": 0.1}})
    assert res.status == "ok" and res.curves["iteration"][-1] == 300


@pytest.mark.parametrize("argv", [["info"], ["info", "--json"]])
def test_a_closed_pipe_ends_quietly(argv):
    proc = subprocess.Popen([sys.executable, "-m", "byzref", *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader goes away before the first line (as `| head -0` would)
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait() == 141
    assert err == ""


@pytest.mark.parametrize("argv", [
    ["sweep", "s.toml", "--out", "store", "--workers", "-3"],
    ["sweep", "s.toml", "--out", "store", "--workers", "0"],
    ["verify", "--quick", "--workers", "0"],
])
def test_worker_counts_below_one_are_refused(tmp_path, capsys, monkeypatch, argv):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.toml").write_text((ROOT / "examples" / "byz_dm21_alie.toml").read_text())
    assert main(argv) == 2
    err = capsys.readouterr().err
    hi = 4 * (os.cpu_count() or 1)
    assert err.count("\n") == 1 and "--workers" in err and f"allowed range [1, {hi}]" in err
    assert not (tmp_path / "store").exists()
