"""byzref.table / `byzref table` / byzref.load: the table holds exactly the store's records and curves.

Expected values are read here straight from runs.jsonl, the .npz files and the run folders' .json files
(not through byzref.runs), and compared bit for bit (NaN: both NaN; a text "nan" has no sign bit).
"""

import csv
import io
import json
import math
import shutil
import struct
import sys

import numpy as np
import pytest

from byzref.cli import main
from byzref.select import method_label
from byzref.store import ResultStore
from byzref.sweep import SerialExecutor, run_sweep
from byzref.table import CURVES, IDENTITY, SUMMARY, rows

_QUAD = {"n": 4, "f": 1, "T": 30, "problem": {"name": "quadratic", "d": 3, "sigma2": 0.1},
         "algorithm": {"name": "byz_dm21", "eta": 0.5}, "aggregator": "cwtm", "attack": {"name": "alie"}}
CONFIGS = [
    # 4 runs: seeds × step sizes
    *({**_QUAD, "seed": s, "algorithm": {**_QUAD["algorithm"], "gamma": g}}
      for s in (0, 1) for g in (0.1, 0.5)),
    # other fields: compressor.k, record.every, no algorithm.eta, another problem and its constants
    {"seed": 0, "n": 4, "f": 0, "T": 40, "problem": {"name": "nonconvex_synthetic", "d": 4},
     "algorithm": {"name": "byz_ef21", "gamma": 0.1}, "compressor": {"name": "top_k", "k": 1},
     "record": {"every": 5}},
    # diverges at iteration 9: NaN in its summary and curves; attack.z a number beside "baruch"
    {"seed": 0, "n": 4, "f": 1, "T": 40, "problem": {"name": "quadratic", "d": 3, "sigma2": 0.0},
     "algorithm": {"name": "byz_ef21", "gamma": 60.0}, "compressor": {"name": "top_k", "k": 1},
     "attack": {"name": "alie", "z": 1.0}},
]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    d = tmp_path_factory.mktemp("table") / "store"
    s = run_sweep(CONFIGS, d, executor=SerialExecutor())
    assert (s["ran"], s["diverged"]) == (6, 1)
    return d


@pytest.fixture(scope="module")
def run_folder(store, tmp_path_factory):
    d = tmp_path_factory.mktemp("table") / "runs"
    st = ResultStore(store, readonly=True)
    for rec in st.records()[::2]:  # 3 of the runs, saved as `byzref run` saves them
        st.load(rec).save(d)
    return d


def _flat(d, prefix=""):
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[prefix + k] = json.dumps(v, sort_keys=True) if isinstance(v, list) else v
    return out


def _num(v):
    return {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}.get(v, v) if isinstance(v, str) else v


def _records(store):
    """The store's records in line order, with their curves (read from the files directly)."""
    out = []
    for line in (store / "runs.jsonl").read_text().splitlines():
        rec = json.loads(line)
        with np.load(store / rec["curves"], allow_pickle=False) as z:
            out.append((rec, {k: z[k].tolist() for k in z.files}))
    return out


def _head(rec):
    cfg = _flat(rec["config"])
    cfg.pop("seed")
    return {"run_id": rec["run_id"], "status": rec["status"], "diverged_at": rec["diverged_at"],
            "seed": rec["seed"], "numerics": rec["versions"]["numerics"], "byzref": rec["versions"]["byzref"],
            "wall_time": rec["wall_time"], **cfg, "method": method_label(rec)}


def _expected(recs, summary=False):
    out = []
    for rec, curves in recs:
        if summary:
            out.append({**_head(rec), **{f"summary.{k}": _num(v) for k, v in rec["summary"].items()},
                        **{f"constants.{k}": _num(v) for k, v in _flat(rec["constants"]).items()}})
            continue
        n = len(curves["iteration"])
        out.extend({**_head(rec), **{k: v[i] for k, v in curves.items()}} for i in range(n))
    return out


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or struct.pack("<d", a) == struct.pack("<d", b)
    return type(a) is type(b) and a == b


def _check(columns, got, want):
    assert len(got) == len(want)
    for row, exp in zip(got, want, strict=True):
        assert set(exp) <= set(columns), set(exp) - set(columns)
        assert len(row) == len(columns)
        for col, v in zip(columns, row, strict=True):
            assert _same(v, exp.get(col)), (exp["run_id"], col, v, exp.get(col))


def test_checkpoint_rows_are_the_records_and_every_curve_value(store):
    recs = _records(store)
    columns, got = rows(store)
    _check(columns, got, _expected(recs))
    assert len(got) == sum(len(c["iteration"]) for _, c in recs) > 100
    # runs in line order, checkpoints ascending
    ids = [r[0] for r in got]
    assert list(dict.fromkeys(ids)) == [rec["run_id"] for rec, _ in recs]
    it = columns.index("iteration")
    for rid in set(ids):
        its = [r[it] for r in got if r[0] == rid]
        assert its == sorted(its) and its[0] == 0
    # union of field sets: a field a run lacks is None
    k, eta = columns.index("compressor.k"), columns.index("algorithm.eta")
    assert {r[k] for r in got} == {None, 1} and {r[eta] for r in got} == {None, 0.5}
    div = [r for r in got if r[1] == "diverged"]
    assert {r[columns.index("diverged_at")] for r in div} == {9} and div[-1][it] == 9


def test_column_order(store):
    columns, _ = rows(store)
    assert columns[:10] == [*IDENTITY, "n", "f", "T"]
    assert IDENTITY == ("run_id", "status", "diverged_at", "seed", "numerics", "byzref", "wall_time")
    m = columns.index("method")
    assert columns[m + 1:] == list(CURVES) == ["iteration", "grad_sq", "grad_sq_avg", "f_gap", "dist",
                                               "agg_err", "bits_up", "bits_down"]
    config = columns[10:m]
    tables = list(dict.fromkeys(c.split(".")[0] for c in config))
    assert tables == ["problem", "algorithm", "compressor", "aggregator", "attack", "record"]
    for t in tables:
        paths = [c for c in config if c.split(".")[0] == t]
        named = paths[0] == f"{t}.name"  # a table with a name (every one but record) starts with it
        assert named == (t != "record") and paths[named:] == sorted(paths[named:])
        assert config[config.index(paths[0]):][:len(paths)] == paths  # contiguous
    assert "seed" not in config and columns.count("seed") == 1


def test_summary_mode_one_row_per_run_with_summary_and_constants(store):
    recs = _records(store)
    columns, got = rows(store, summary=True)
    _check(columns, got, _expected(recs, summary=True))
    assert [r[0] for r in got] == [rec["run_id"] for rec, _ in recs]
    m = columns.index("method")
    assert columns[m + 1:m + 1 + len(SUMMARY)] == [f"summary.{k}" for k in SUMMARY]
    assert all(c.startswith("constants.") for c in columns[m + 1 + len(SUMMARY):])
    assert "grad_sq" not in columns and "constants.extra.hessian_min" in columns
    (div,) = [r for r in got if r[1] == "diverged"]
    assert math.isnan(div[columns.index("summary.final_f_gap")])
    assert div[columns.index("summary.iterations")] == 9


def test_where_selects_runs_before_their_curves_are_read(store, monkeypatch):
    from byzref.runs import RunSource

    read = []
    orig = RunSource.curves
    monkeypatch.setattr(RunSource, "curves", lambda self, rec: read.append(rec["run_id"]) or orig(self, rec))
    recs = _records(store)
    half = [(r, c) for r, c in recs if r["config"]["algorithm"]["gamma"] == 0.5]
    columns, got = rows(store, where=["algorithm.gamma=0.5"])
    _check(columns, got, _expected(half))
    assert sorted(read) == sorted(r["run_id"] for r, _ in half) and len(half) == 2
    # OR within a key, AND across keys; the same as pairs and as a mapping
    want = [r["run_id"] for r, _ in recs if r["config"]["algorithm"]["gamma"] in (0.1, 0.5)
            and r["config"]["attack"]["name"] == "alie"]
    for where in (["algorithm.gamma=0.1", "algorithm.gamma=0.5", "attack=alie"],
                  [("algorithm.gamma", 0.1), ("algorithm.gamma", 0.5), ("attack", "alie")],
                  {"algorithm.gamma": [0.1, 0.5], "attack": "alie"}):
        _, got = rows(store, summary=True, where=where)
        assert [r[0] for r in got] == want and len(want) == 4


def test_run_folder_and_verify_folder(store, run_folder, tmp_path):
    recs = []
    for js in sorted(run_folder.glob("*.json")):  # a run folder is read in file name order
        rec = json.loads(js.read_text())
        with np.load(js.with_suffix(".npz"), allow_pickle=False) as z:
            recs.append((rec, {k: z[k].tolist() for k in z.files}))
    assert len(recs) == 3
    columns, got = rows(run_folder)
    _check(columns, got, _expected(recs))
    columns, got = rows(run_folder, summary=True)
    _check(columns, got, _expected(recs, summary=True))
    shutil.copytree(store, tmp_path / "verify" / "runs")  # what `byzref verify --out verify` keeps
    (vc, vr), (sc, sr) = rows(tmp_path / "verify"), rows(store)
    assert vc == sc and len(vr) == len(sr)
    assert all(_same(a, b) for x, y in zip(vr, sr, strict=True) for a, b in zip(x, y, strict=True))


def _parse(text):
    return list(csv.reader(io.StringIO(text, newline="")))


def _cell_equals(cell: str, v) -> bool:
    if v is None:
        return cell == ""
    if isinstance(v, float):
        return _same(float(cell), v)
    if isinstance(v, bool):
        return cell == str(v)
    if isinstance(v, int):
        return int(cell) == v and cell == str(v)
    return cell == v


@pytest.mark.parametrize("summary", [False, True])
def test_csv_round_trip_is_exact(store, tmp_path, capsys, summary):
    columns, want = rows(store, summary=summary)
    out = tmp_path / "t.csv"
    out.write_text("an older table\n")  # an existing output file is replaced
    flag = ["--summary"] if summary else []
    assert main(["table", str(store), *flag, "-o", str(out)]) == 0
    cap = capsys.readouterr()
    assert cap.err == ""
    assert cap.out.splitlines()[0] == (f"table: {len(want)} rows × {len(columns)} columns (one per "
                                       f"{'run' if summary else 'checkpoint'}, 6 runs) written to {out}")
    assert cap.out.splitlines()[1].strip() == f"store {store}: 6 runs read (5 ok, 1 diverged)"
    text = out.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]  # no temporary file left
    parsed = _parse(text)
    assert parsed[0] == columns and len(parsed) == len(want) + 1
    floats = 0
    for cells, row in zip(parsed[1:], want, strict=True):
        assert len(cells) == len(row)
        for col, cell, v in zip(columns, cells, row, strict=True):
            assert _cell_equals(cell, v), (col, cell, v)
            floats += isinstance(v, float) and v != round(v, 6)
    assert floats > (20 if summary else 500)  # long decimals that a %g-style writer would round
    assert ",nan" in text
    # -o - writes the same CSV on stdout, the report on stderr
    assert main(["table", str(store), *flag, "-o", "-"]) == 0
    cap = capsys.readouterr()
    assert cap.out == text and cap.err.startswith(f"table: {len(want)} rows")


def test_parquet_and_dataframe(store, tmp_path, capsys):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    import byzref

    for summary in (False, True):
        columns, want = rows(store, summary=summary)
        out = tmp_path / f"t{summary}.parquet"
        assert main(["table", str(store), *(["--summary"] if summary else []), "-o", str(out)]) == 0
        df = pd.read_parquet(out)
        assert list(df.columns) == columns and len(df) == len(want)
        for j, col in enumerate(columns):
            values = [None if v is pd.NA or v is None else v for v in df[col].astype(object)]
            vals = [r[j] for r in want]
            mixed = len({type(v) for v in vals if v is not None}) > 1  # written as text (attack.z)
            for got, v in zip(values, vals, strict=True):
                if v is None:
                    assert got is None or (isinstance(got, float) and math.isnan(got)), (col, got)
                elif mixed:
                    assert got == (repr(v) if isinstance(v, float) else str(v)), (col, got, v)
                elif isinstance(v, float):
                    assert _same(float(got), v), (col, got, v)
                else:
                    assert got == v and type(got) is type(v), (col, got, v)
        assert str(df["diverged_at"].dtype) == "Int64"
        frame = byzref.load(store, summary=summary)
        assert list(frame.columns) == columns and len(frame) == len(want)
        k = columns.index("run_id")
        assert list(frame["run_id"]) == [r[k] for r in want]
    sel = byzref.load(store, where={"algorithm.gamma": 0.5})
    assert set(sel["algorithm.gamma"]) == {0.5} and sel["run_id"].nunique() == 2
    capsys.readouterr()


def test_without_pandas_parquet_and_load_name_the_extra(store, tmp_path, monkeypatch, capsys):
    import byzref

    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas raises ImportError
    out = tmp_path / "t.parquet"
    assert main(["table", str(store), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("byzref: error: ") and "pip install 'byzref[table]'" in err
    assert not out.exists()
    with pytest.raises(ImportError, match=r"pip install 'byzref\[table\]'"):
        byzref.load(store)
    assert main(["table", str(store), "-o", str(tmp_path / "t.csv")]) == 0  # CSV needs no pandas


@pytest.mark.parametrize("case, needle", [
    ("missing", "does not exist"),
    ("source is a file", "is not a directory"),
    ("empty folder", "holds no runs"),
    ("suffix", "must end in .csv or .parquet"),
    ("unknown where key", "no field 'algorithm.lr'"),
    ("where matches nothing", "matches no run"),
    ("where without =", "has no '='"),
    ("output folder missing", "does not exist; create it first"),
    ("output is a directory", "is a directory"),
    ("output in the store", "never written into a store"),
    ("output in the curves folder", "never written into a store"),
])
def test_bad_input_is_one_line_exit_2_and_nothing_written(store, tmp_path, capsys, case, needle):
    src, out, where = str(store), tmp_path / "t.csv", []
    if case == "missing":
        src = str(tmp_path / "nope")
    elif case == "source is a file":
        src = str(tmp_path / "file")
        (tmp_path / "file").write_text("x")
    elif case == "empty folder":
        src = str(tmp_path / "empty")
        (tmp_path / "empty").mkdir()
    elif case == "suffix":
        out = tmp_path / "t.xlsx"
    elif case == "unknown where key":
        where = ["--where", "algorithm.lr=0.1"]
    elif case == "where matches nothing":
        where = ["--where", "attack=ipm"]
    elif case == "where without =":
        where = ["--where", "attack"]
    elif case == "output folder missing":
        out = tmp_path / "no" / "t.csv"
    elif case == "output is a directory":
        out = tmp_path / "d.csv"
        out.mkdir()
    elif case == "output in the store":
        out = store / "t.csv"
    elif case == "output in the curves folder":
        out = store / "curves" / "t.csv"
    before = sorted(p.name for p in store.rglob("*"))
    existing = tmp_path / "t.csv"
    if out != existing:
        existing.write_text("kept")
    assert main(["table", src, *where, "-o", str(out)]) == 2
    cap = capsys.readouterr()
    assert cap.out == "" and cap.err.count("\n") == 1 and "Traceback" not in cap.err
    assert cap.err.startswith("byzref: error: ") and needle in cap.err, cap.err
    assert sorted(p.name for p in store.rglob("*")) == before
    if case != "output is a directory":
        assert not out.exists()
    if out != existing:
        assert existing.read_text() == "kept"
    leftovers = [p.name for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []
