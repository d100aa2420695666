"""No result silently lost or duplicated: damaged curves, write order, numerics versions, symlinks,
exclusive run records, file modes, stale temporary files, stale failure entries, run statuses."""

import errno
import hashlib
import json
import multiprocessing as mp
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import byzref._sweep_exec as ex
from byzref.cli import main
from byzref.config import NUMERICS, normalize, run_id
from byzref.errors import ConfigError
from byzref.results import STALE_AFTER, DamagedCurves, Result, load_result, prepare_run_dir
from byzref.store import ResultStore, same_numerics
from byzref.sweep import SerialExecutor, run_sweep

ROOT = Path(__file__).resolve().parents[1]
CURRENT = str(NUMERICS)
ROOT_USER = os.geteuid() == 0


def _cfg(seed, T=20):
    return {"seed": seed, "n": 4, "T": T, "record": {"every": 5},
            "problem": {"name": "quadratic", "d": 5, "sigma2": 0.1},
            "algorithm": {"name": "byz_ef21_sgd", "gamma": 0.3}}


def _res(seed, numerics=CURRENT, status="ok", wall_time=0.0):
    """A hand-made result (no engine run) of config _cfg(seed)."""
    cfg = normalize(_cfg(seed))
    rng = np.random.default_rng(seed)
    curves = {"iteration": np.arange(5.0), "grad_sq": rng.random(5), "count": np.arange(5)}
    return Result(cfg, run_id(cfg), status, None, curves, {"avg_grad_sq": float(curves["grad_sq"].mean())},
                  versions={"numerics": numerics}, wall_time=wall_time)


def _lines(store_dir) -> list[str]:
    return [ln for ln in (Path(store_dir) / "runs.jsonl").read_text().split("\n") if ln.strip()]


def _npz(store_dir, rid) -> Path:
    return Path(store_dir) / "curves" / f"{rid}.npz"


# --- item 1: damaged curve files ---------------------------------------------------------------------
def test_record_carries_the_size_and_sha256_of_the_curve_file_bytes(tmp_path):
    store = ResultStore(tmp_path)
    a = _res(0)
    assert store.append(a)
    (line,) = _lines(tmp_path)
    rec = json.loads(line)
    data = _npz(tmp_path, a.run_id).read_bytes()
    assert rec["curves"] == f"curves/{a.run_id}.npz"
    assert rec["curves_size"] == len(data) and rec["curves_sha256"] == hashlib.sha256(data).hexdigest()
    assert line.startswith(f'{{"run_id":"{a.run_id}",')  # a torn line still names its run
    back = store.load(a.run_id)
    for k, v in a.curves.items():  # bit for bit, dtype kept
        assert back.curves[k].dtype == v.dtype and back.curves[k].tobytes() == v.tobytes()


def _truncate(p: Path):
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])


def _flip(p: Path):  # same size, one byte changed inside the stored array data
    b = bytearray(p.read_bytes())
    b[len(b) // 3] ^= 0xFF
    p.write_bytes(bytes(b))


def _empty(p: Path):
    p.write_bytes(b"")


DAMAGE = {"truncated": (_truncate, "wrong size"), "deleted": (Path.unlink, "missing"),
          "corrupted": (_flip, "wrong hash"), "emptied": (_empty, "wrong size")}


@pytest.mark.parametrize("how", DAMAGE)
def test_damaged_curves_count_as_not_stored_are_recomputed_and_the_last_valid_record_wins(tmp_path, how,
                                                                                          monkeypatch):
    damage, kind = DAMAGE[how]
    cfgs = [_cfg(0), _cfg(1)]
    first = run_sweep(cfgs, tmp_path, executor=SerialExecutor())
    assert first["ran"] == 2
    a, b = (run_id(normalize(c)) for c in cfgs)
    before = ResultStore(tmp_path).load(a).curves
    damage(_npz(tmp_path, a))
    store = ResultStore(tmp_path)
    assert store.finished_ids() == {b} and [r["run_id"] for r in store.records()] == [b]
    report = store.check()
    assert [(d.run_id, d.kind) for d in report.damaged] == [(a, kind)] and report.exit_code == 1
    with pytest.raises(DamagedCurves, match=a):
        store.load(json.loads(_lines(tmp_path)[0]))
    seen = []
    real = ex._run_one
    monkeypatch.setattr(ex, "_run_one", lambda c, *a: seen.append(run_id(c)) or real(c, *a))
    second = run_sweep(cfgs, tmp_path, executor=SerialExecutor())
    assert (second["skipped"], second["ran"], seen) == (1, 1, [a])
    lines = [json.loads(ln)["run_id"] for ln in _lines(tmp_path)]
    assert lines == [a, b, a]  # append-only: the damaged record stays, the new one follows
    store = ResultStore(tmp_path)
    recs = store.records()
    assert sorted(r["run_id"] for r in recs) == sorted([a, b])
    again = store.load(a).curves
    assert all(again[k].tobytes() == before[k].tobytes() for k in before)  # recomputed bit for bit
    report = store.check()
    assert report.clean and report.exit_code == 0 and not report.damaged
    # the new file also matches the old record (same bytes), so nothing is left to repair
    assert run_sweep(cfgs, tmp_path, executor=SerialExecutor())["ran"] == 0


def test_append_refuses_a_duplicate_only_while_the_stored_curves_verify(tmp_path):
    store = ResultStore(tmp_path)
    a = _res(0)
    assert store.append(a) and not store.append(_res(0))
    _npz(tmp_path, a.run_id).unlink()
    assert store.append(_res(0))  # the same instance sees the damage too
    assert len(_lines(tmp_path)) == 2 and store.finished_ids() == {a.run_id}


def test_a_deleted_curves_folder_makes_every_record_damaged_and_an_append_recreates_it(tmp_path):
    import shutil

    store = ResultStore(tmp_path)
    a, b = _res(0), _res(1)
    store.append(a)
    shutil.rmtree(tmp_path / "curves")
    report = ResultStore(tmp_path, readonly=True).check()
    assert [(d.run_id, d.kind) for d in report.damaged] == [(a.run_id, "missing")] and not report.records
    assert store.append(b) and store.append(a)
    assert ResultStore(tmp_path).finished_ids() == {a.run_id, b.run_id}


def test_readers_take_the_last_verifying_record_per_run_and_never_a_damaged_one(tmp_path):
    store = ResultStore(tmp_path)
    a = _res(0, wall_time=1.0)
    store.append(a)
    first = json.loads(_lines(tmp_path)[0])
    later = {**first, "wall_time": 2.0}
    bad = {**first, "wall_time": 3.0, "curves_sha256": "0" * 64}
    with open(tmp_path / "runs.jsonl", "a") as fh:
        fh.write(json.dumps(later) + "\n" + json.dumps(bad) + "\n")
    (rec,) = ResultStore(tmp_path, readonly=True).records()
    assert rec["wall_time"] == 2.0
    report = ResultStore(tmp_path, readonly=True).check()
    assert [d.line for d in report.repaired] == [3] and not report.damaged and report.clean


def _legacy(tmp_path):
    """A store whose record has no size or hash (written before byzref 0.2.1)."""
    store = ResultStore(tmp_path)
    a = _res(0)
    store.append(a)
    rec = json.loads(_lines(tmp_path)[0])
    del rec["curves_size"], rec["curves_sha256"]
    (tmp_path / "runs.jsonl").write_text(json.dumps(rec, sort_keys=True) + "\n")
    return a


def test_records_without_a_hash_are_verified_by_reading_every_array(tmp_path):
    a = _legacy(tmp_path)
    assert ResultStore(tmp_path).finished_ids() == {a.run_id}
    np.testing.assert_array_equal(ResultStore(tmp_path).load(a.run_id).curves["grad_sq"], a.curves["grad_sq"])
    p = _npz(tmp_path, a.run_id)
    data = p.read_bytes()
    # cut inside the last member's data, keeping the zip directory readable would need surgery: a
    # truncation keeps the local headers, loses the central directory -> BadZipFile
    p.write_bytes(data[:-30])
    store = ResultStore(tmp_path, readonly=True)
    assert store.finished_ids() == set()
    (d,) = store.check().damaged
    assert d.kind == "unreadable" and "BadZipFile" in d.reason


def test_a_curve_member_damaged_behind_an_intact_zip_directory_is_caught_without_a_hash(tmp_path):
    a = _legacy(tmp_path)
    p = _npz(tmp_path, a.run_id)
    b = bytearray(p.read_bytes())
    i = b.find(b"\x93NUMPY")  # the first array's header; its data follows
    b[i + 130] ^= 0xFF  # inside the array data: the zip member's CRC no longer matches
    p.write_bytes(bytes(b))
    assert ResultStore(tmp_path, readonly=True).finished_ids() == set()


def test_writes_are_durable_in_order_curves_then_directory_then_the_line(tmp_path, monkeypatch):
    store = ResultStore(tmp_path)
    calls = []

    def where(fd):
        return os.readlink(f"/proc/self/fd/{fd}")

    real_fsync, real_rename, real_write = os.fsync, os.rename, os.write
    monkeypatch.setattr(os, "fsync", lambda fd: calls.append(("fsync", where(fd))) or real_fsync(fd))

    def rename(src, dst, **kw):
        calls.append(("rename", dst))
        return real_rename(src, dst, **kw)

    monkeypatch.setattr(os, "rename", rename)
    monkeypatch.setattr(os, "write", lambda fd, d: calls.append(("write", where(fd))) or real_write(fd, d))
    a = _res(0)
    assert store.append(a)
    curves, npz, index = str(tmp_path / "curves"), f"{a.run_id}.npz", str(tmp_path / "runs.jsonl")
    seq = [c for c in calls if c[1] != str(tmp_path)]  # the store dir's own fsync (index creation) aside
    i_tmp = next(i for i, c in enumerate(seq) if c[0] == "fsync" and c[1].startswith(f"{curves}/.{npz}."))
    i_ren = seq.index(("rename", npz))
    i_dir = seq.index(("fsync", curves))
    i_line = seq.index(("write", index))
    i_sync = seq.index(("fsync", index))
    assert i_tmp < i_ren < i_dir < i_line < i_sync
    assert (".tmp" in seq[i_tmp][1]) and f".{os.getpid()}." in seq[i_tmp][1]


def test_a_writer_killed_between_the_curves_and_its_line_loses_nothing(tmp_path, monkeypatch):
    import byzref.store as store_mod

    store = ResultStore(tmp_path)
    store.append(_res(1))
    real = store_mod._write_all

    def killed(fd, data):
        if os.readlink(f"/proc/self/fd/{fd}").endswith("runs.jsonl"):
            raise KeyboardInterrupt  # the process dies here
        real(fd, data)

    monkeypatch.setattr(store_mod, "_write_all", killed)
    a = _res(0)
    with pytest.raises(KeyboardInterrupt):
        store.append(a)
    monkeypatch.undo()
    assert _npz(tmp_path, a.run_id).exists()  # the curves, without a record
    fresh = ResultStore(tmp_path)
    assert a.run_id not in fresh.finished_ids()
    assert fresh.check().orphans == [f"{a.run_id}.npz"] and fresh.check().clean
    assert fresh.append(a) and fresh.finished_ids() == {a.run_id, _res(1).run_id}


def test_a_torn_line_that_names_a_run_stored_later_is_not_damage(tmp_path):
    store = ResultStore(tmp_path)
    a = _res(0)
    line = _lines_of(a)
    with open(tmp_path / "runs.jsonl", "ab") as fh:
        fh.write(line[: len(line) // 2])  # a writer killed mid-append
    report = ResultStore(tmp_path, readonly=True).check()
    assert report.unparseable == [(1, a.run_id)] and report.lost_lines == [(1, a.run_id)]
    assert report.exit_code == 1
    assert store.append(a)
    report = ResultStore(tmp_path, readonly=True).check()
    assert report.lost_lines == [] and report.clean and [r["run_id"] for r in report.records] == [a.run_id]


def _lines_of(res) -> bytes:
    """The index line an append writes for ``res`` (via a scratch store)."""
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        ResultStore(d).append(res)
        return (Path(d) / "runs.jsonl").read_bytes()


def test_store_check_command_reports_and_exits_0_1_2(tmp_path, capsys):
    d = tmp_path / "s"
    store = ResultStore(d)
    a, b = _res(0), _res(1)
    store.append(a)
    store.append(b)
    assert main(["store", "check", str(d)]) == 0
    out = capsys.readouterr().out
    assert "2 run(s) stored with verified curves" in out and out.rstrip().endswith("clean")
    _truncate(_npz(d, a.run_id))
    with open(d / "runs.jsonl", "ab") as fh:
        fh.write(b'{"run_id":"abc","conf')
    assert main(["store", "check", str(d)]) == 1
    out = capsys.readouterr().out
    assert f"line 1, run {a.run_id}: curves/{a.run_id}.npz:" in out and "the record says" in out
    assert "1 unparseable line(s)" in out and "line 3 (run abc)" in out
    assert out.rstrip().endswith("damage found")
    assert main(["store", "check", str(tmp_path / "nowhere")]) == 2
    assert "not a results store" in capsys.readouterr().err
    (tmp_path / "file").write_text("x")
    assert main(["store", "check", str(tmp_path / "file")]) == 2


# --- item 2: numerics versions -----------------------------------------------------------------------
def test_a_store_refuses_to_append_another_numerics_version(tmp_path):
    store = ResultStore(tmp_path)
    store.append(_res(0))
    other = _res(1, numerics="99")
    with pytest.raises(ConfigError) as err:
        store.append(other)
    msg = str(err.value)
    assert f"numerics version {CURRENT}" in msg and "version 99" in msg and "new --out" in msg
    assert "\n" not in msg
    assert len(_lines(tmp_path)) == 1 and not _npz(tmp_path, other.run_id).exists()
    fresh = tmp_path / "old"
    ResultStore(fresh).append(_res(0, numerics="1"))  # a store of one (old) version accepts its own
    assert ResultStore(fresh, readonly=True).records()[0]["versions"]["numerics"] == "1"


def test_a_sweep_into_a_store_of_another_numerics_version_fails_before_running(tmp_path, monkeypatch, capsys):
    import byzref.config as config_module

    run_sweep([_cfg(0)], tmp_path / "s", executor=SerialExecutor())
    monkeypatch.setattr(config_module, "NUMERICS", NUMERICS + 1)
    ran = []
    monkeypatch.setattr(ex, "_run_one", lambda c, *a: ran.append(c))
    with pytest.raises(ConfigError, match=f"numerics version {NUMERICS}.*version {NUMERICS + 1}.*new --out"):
        run_sweep([_cfg(1)], tmp_path / "s", executor=SerialExecutor())
    sweep = tmp_path / "s.toml"
    sweep.write_text('seed = [1]\nn = 4\nT = 20\n[problem]\nname = "quadratic"\nd = 5\n'
                     '[algorithm]\nname = "byz_ef21_sgd"\ngamma = 0.3\n')
    assert main(["sweep", str(sweep), "--out", str(tmp_path / "s"), "--workers", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "new --out" in err
    assert ran == [] and len(_lines(tmp_path / "s")) == 1


def test_readers_never_pool_two_numerics_versions():
    recs = [{"run_id": "a", "versions": {"numerics": CURRENT}}, {"run_id": "b", "versions": {}},
            {"run_id": "c", "versions": {"numerics": "1"}}]
    kept, left = same_numerics(recs)
    assert [r["run_id"] for r in kept] == ["a"] and left == {"1": 2}  # no version recorded: "1"
    only_old = recs[1:]
    assert same_numerics(only_old) == (only_old, {})  # one version: read as it is
    with pytest.raises(ConfigError, match="never pooled"):
        same_numerics([recs[2], {"run_id": "d", "versions": {"numerics": "7"}}])


# --- item 3: symlinks --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["runs.jsonl", "failures.jsonl", "curves"])
def test_a_symlink_in_place_of_a_store_file_is_refused_not_followed(tmp_path, name):
    d = tmp_path / "s"
    store = ResultStore(d)
    store.append(_res(0))
    store.log_failure("x", {"error": "boom"})
    real = d / name
    target = tmp_path / f"elsewhere-{name}"
    real.rename(target)
    real.symlink_to(target)
    before = sorted((p.name, p.read_bytes()) for p in [target] if p.is_file())
    with pytest.raises(ConfigError, match=str(real)):
        ResultStore(d)
    with pytest.raises(ConfigError, match=str(real)):
        ResultStore(d, readonly=True).records()
    with pytest.raises(ConfigError, match=str(real)):  # an instance opened before the swap
        if name == "failures.jsonl":
            store.log_failure("y", {"error": "boom"})
        else:
            store.append(_res(1))
    assert sorted((p.name, p.read_bytes()) for p in [target] if p.is_file()) == before


def test_a_symlinked_curve_file_is_damage_never_read_and_is_replaced_by_the_rerun(tmp_path):
    store = ResultStore(tmp_path / "s")
    a = _res(0)
    store.append(a)
    p = _npz(tmp_path / "s", a.run_id)
    target = tmp_path / "elsewhere.npz"
    p.rename(target)  # byte-identical content behind the link: still not followed
    p.symlink_to(target)
    (d,) = ResultStore(tmp_path / "s", readonly=True).check().damaged
    assert d.kind == "symlink"
    with pytest.raises(DamagedCurves, match="symlink"):
        store.load(json.loads(_lines(tmp_path / "s")[0]))
    snapshot = target.read_bytes()
    assert store.append(a)
    assert not p.is_symlink() and p.read_bytes() == snapshot and target.read_bytes() == snapshot


# --- item 4: output folders ----------------------------------------------------------------------------
def _save_racing(out, barrier, wall_time, results):
    res = _res(0, wall_time=wall_time)
    barrier.wait()
    try:
        res.save(out)
        results.put(("ok", wall_time))
    except FileExistsError:
        results.put(("exists", wall_time))


def test_concurrent_saves_of_one_run_create_its_record_once_and_never_replace_it(tmp_path):
    ctx = mp.get_context("fork")
    n = 6
    barrier, results = ctx.Barrier(n), ctx.Queue()
    procs = [ctx.Process(target=_save_racing, args=(str(tmp_path), barrier, float(i), results))
             for i in range(n)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    outcomes = sorted(results.get(timeout=5) for _ in range(n))
    winners = [w for what, w in outcomes if what == "ok"]
    assert len(winners) == 1 and [what for what, _ in outcomes].count("exists") == n - 1
    rid = _res(0).run_id
    assert load_result(tmp_path / f"{rid}.json").wall_time == winners[0]
    assert sorted(os.listdir(tmp_path)) == [f"{rid}.json", f"{rid}.npz"]  # no temporary file left


def test_save_never_replaces_a_record_that_appears_while_it_writes(tmp_path, monkeypatch):
    import byzref.results as results_mod

    res = _res(0, wall_time=1.0)
    js = tmp_path / f"{res.run_id}.json"
    real = results_mod._write_durable

    def racing(dir_fd, name, data, exclusive):
        if name.endswith(".npz"):
            js.write_text('{"someone": "else"}')  # a writer that does not lock
        return real(dir_fd, name, data, exclusive)

    monkeypatch.setattr(results_mod, "_write_durable", racing)
    with pytest.raises(FileExistsError, match="never overwritten"):
        res.save(tmp_path)
    assert js.read_text() == '{"someone": "else"}'


def test_prepare_run_dir_refuses_before_computing(tmp_path):
    rid = _res(0).run_id
    new = tmp_path / "a" / "b"
    prepare_run_dir(new, rid)  # created
    assert new.is_dir() and os.listdir(new) == []
    _res(0).save(new)
    with pytest.raises(ConfigError, match=f"{new / rid}.json exists.*never overwritten"):
        prepare_run_dir(new, rid)
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(ConfigError, match=f"{f} exists and is not a directory"):
        prepare_run_dir(f, rid)
    with pytest.raises(ConfigError, match=f"--out {f / 'sub'}: cannot create the output folder"):
        prepare_run_dir(f / "sub", rid)
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "missing")
    with pytest.raises(ConfigError, match="is not a directory"):
        prepare_run_dir(dangling, rid)
    link = tmp_path / "link"
    link.symlink_to(new)  # a symlink to a folder is the folder the user named
    with pytest.raises(ConfigError, match="never overwritten"):
        prepare_run_dir(link, rid)
    prepare_run_dir(link, _res(1).run_id)


@pytest.mark.skipif(ROOT_USER, reason="root writes into read-only folders")
def test_prepare_run_dir_and_the_store_refuse_a_read_only_folder(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        with pytest.raises(ConfigError, match=f"{ro} is not writable"):
            prepare_run_dir(ro, _res(0).run_id)
        with pytest.raises(ConfigError, match=str(ro)):
            ResultStore(ro)
    finally:
        ro.chmod(0o755)


def test_a_store_on_a_file_is_a_clean_error_naming_the_path(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(ConfigError, match=f"{f} exists and is not a directory"):
        ResultStore(f)
    with pytest.raises(ConfigError, match=f"--out {f / 'sub'}: cannot create the results store"):
        ResultStore(f / "sub")
    with pytest.raises(ConfigError, match=str(f)):
        run_sweep([_cfg(0)], f, executor=SerialExecutor())
    sweep = tmp_path / "s.toml"
    sweep.write_text('n = 4\nT = 20\n[problem]\nname = "quadratic"\nd = 5\n'
                     '[algorithm]\nname = "byz_ef21_sgd"\ngamma = 0.3\n')
    assert main(["sweep", str(sweep), "--out", str(f), "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert str(f) in err and "exists and is not a directory" in err
    assert f.read_text() == "x"


def test_load_result_checks_the_curves(tmp_path):
    res = _res(0)
    js = res.save(tmp_path)
    assert load_result(js).curves["grad_sq"].tobytes() == res.curves["grad_sq"].tobytes()
    rec = json.loads(js.read_text())
    assert rec["curves_sha256"] == hashlib.sha256(js.with_suffix(".npz").read_bytes()).hexdigest()
    _flip(js.with_suffix(".npz"))
    with pytest.raises(DamagedCurves, match="sha256"):
        load_result(js)
    js.with_suffix(".npz").unlink()
    with pytest.raises(DamagedCurves, match="missing"):
        load_result(js)


# --- item 5: modes, temporary files, failures ---------------------------------------------------------
@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_files_honour_the_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        store = ResultStore(tmp_path / "s")
        store.append(_res(0))
        store.log_failure("x", {"error": "e"})
        js = _res(0).save(tmp_path / "run")
    finally:
        os.umask(old)
    want = 0o666 & ~umask
    s = tmp_path / "s"
    for p in [s / "runs.jsonl", s / "failures.jsonl", _npz(s, _res(0).run_id), js, js.with_suffix(".npz")]:
        assert p.stat().st_mode & 0o777 == want, p


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_temporary_files_of_gone_writers_are_removed_live_ones_kept(tmp_path):
    d = tmp_path / "s"
    ResultStore(d)
    dead, old = _dead_pid(), time.time() - 2 * STALE_AFTER
    names = {"dead_old": f".abc.npz.{dead}.0123abcd.tmp", "dead_new": f".abd.npz.{dead}.0123abcd.tmp",
             "live_old": f".abe.npz.{os.getpid()}.0123abcd.tmp", "legacy_old": ".abf.npz.k2_x9q0z.tmp",
             "not_ours": ".notes.txt.tmp"}
    for key, name in names.items():
        p = d / "curves" / name
        p.write_bytes(b"partial")
        if key.endswith("old") or key == "not_ours":
            os.utime(p, (old, old))
    run = tmp_path / "run"
    run.mkdir()
    (run / f".x.json.{dead}.0123abcd.tmp").write_bytes(b"{")
    os.utime(run / f".x.json.{dead}.0123abcd.tmp", (old, old))
    assert sorted(ResultStore(d, readonly=True).check().stale_tmp) == sorted([names["dead_old"],
                                                                              names["legacy_old"]])
    ResultStore(d)  # opening for writing cleans up
    left = set(os.listdir(d / "curves"))
    assert left == {names["dead_new"], names["live_old"], names["not_ours"]}
    prepare_run_dir(run, _res(0).run_id)
    assert os.listdir(run) == []


def test_a_failure_entry_is_dropped_when_its_run_is_stored(tmp_path, monkeypatch):
    cfgs = [_cfg(0), _cfg(1)]
    a = run_id(normalize(cfgs[0]))
    real = ex._run_one

    def flaky(cfg, *args):
        if run_id(cfg) == a:
            raise RuntimeError("transient")
        return real(cfg, *args)

    monkeypatch.setattr(ex, "_run_one", flaky)
    s = run_sweep(cfgs, tmp_path, executor=SerialExecutor())
    assert (s["failed"], s["ok"]) == (1, 1)
    ResultStore(tmp_path).log_failure("other", {"error": "kept"})
    assert [f["run_id"] for f in ResultStore(tmp_path).failures()] == [a, "other"]
    monkeypatch.setattr(ex, "_run_one", real)
    s = run_sweep(cfgs, tmp_path, executor=SerialExecutor())
    assert (s["failed"], s["ran"]) == (0, 1)
    fails = [json.loads(ln) for ln in (tmp_path / "failures.jsonl").read_text().splitlines()]
    assert [f["run_id"] for f in fails] == ["other"] and fails[0]["error"] == "kept"
    assert [f["run_id"] for f in ResultStore(tmp_path).failures()] == ["other"]


def test_readers_ignore_a_failure_entry_of_a_stored_run(tmp_path):
    store = ResultStore(tmp_path)
    a = _res(0)
    store.append(a)
    with open(tmp_path / "failures.jsonl", "w") as fh:  # e.g. a writer killed before the rewrite
        fh.write(json.dumps({"run_id": a.run_id, "error": "old"}) + "\n")
    assert store.failures() == []


# --- item 6: statuses -----------------------------------------------------------------------------------
def test_the_sweep_summary_counts_every_status(tmp_path, monkeypatch):
    status = {run_id(normalize(_cfg(s))): st for s, st in enumerate(["ok", "stalled", "diverged", "stalled"])}

    def fake(cfg, *args):
        rid = run_id(cfg)
        res = _res(cfg["seed"], status=status[rid])
        assert res.run_id == rid
        return res

    monkeypatch.setattr(ex, "_run_one", fake)
    s = run_sweep([_cfg(i) for i in range(4)], tmp_path, executor=SerialExecutor())
    assert (s["ok"], s["stalled"], s["diverged"], s["failed"]) == (1, 2, 1, 0)
    assert run_sweep([], tmp_path / "e", executor=SerialExecutor())["stalled"] == 0


def test_durable_write_refuses_to_replace_when_exclusive(tmp_path):
    from byzref.results import _open_dir, _write_durable

    fd = _open_dir(tmp_path)
    try:
        _write_durable(fd, "x.json", b"1", exclusive=True)
        with pytest.raises(FileExistsError) as err:
            _write_durable(fd, "x.json", b"2", exclusive=True)
        assert err.value.errno == errno.EEXIST
        _write_durable(fd, "y.npz", b"1", exclusive=False)
        _write_durable(fd, "y.npz", b"2", exclusive=False)
    finally:
        os.close(fd)
    assert (tmp_path / "x.json").read_bytes() == b"1" and (tmp_path / "y.npz").read_bytes() == b"2"
    assert sorted(os.listdir(tmp_path)) == ["x.json", "y.npz"]
