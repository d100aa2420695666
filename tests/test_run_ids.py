"""One run, one id: every spelling of the same configuration normalizes to the same dict and id."""

import copy
import re

import pytest

from byzref.config import MAX_T, normalize, run_id
from byzref.errors import ConfigError

BASE = {"seed": 0, "n": 10, "f": 2, "T": 50,
        "problem": {"name": "nonconvex_synthetic", "d": 10, "sigma2": 1.0},
        "algorithm": {"name": "byz_dm21", "gamma": 0.05, "eta": 0.1},
        "compressor": {"name": "top_k", "k": 2}, "aggregator": "nnm+cwtm",
        "attack": {"name": "alie"}}


def with_(**changes):
    cfg = copy.deepcopy(BASE)
    for path, value in changes.items():
        *head, last = path.split("__")
        node = cfg
        for p in head:
            node = node[p]
        node[last] = value
    return cfg


SAME_RUN = [
    ("gamma int vs float", with_(algorithm__gamma=1), with_(algorithm__gamma=1.0)),
    ("k as a float", with_(compressor__k=2.0), BASE),
    ("d as a float", with_(problem__d=10.0), BASE),
    ("eta2 written out", with_(algorithm__eta2=0.1), BASE),
    ("batch default written out", with_(algorithm__batch=1), BASE),
    ("init_batch default written out", with_(algorithm__init_batch=1), BASE),
    ("problem default written out", with_(problem__lam=1.0), BASE),
    ("problem default as an int", with_(problem__lam=1), BASE),
    ("empty parentheses", with_(aggregator="nnm()+cwtm()"), BASE),
    ("aggregator as a table", with_(aggregator={"name": "nnm+cwtm"}), BASE),
    ("stage default written out", with_(aggregator="nnm+cwtm", f=2), with_(aggregator="nnm+cwtm(f=2)")),
    ("positional vs keyword", with_(aggregator="bucketing(3)+cwmed"),
     with_(aggregator="bucketing(s=3)+cwmed")),
    ("table field vs spec argument", with_(aggregator={"name": "krum", "m_nb": 3}),
     with_(aggregator="krum(m_nb=3)")),
    ("gm's default start", with_(aggregator="gm(start=mean)"), with_(aggregator="gm")),
    ("attack default target", with_(attack={"name": "alie", "target": "state"}), BASE),
    ("attack default parameter", with_(attack={"name": "ipm", "eps": 0.1}), with_(attack="ipm")),
    ("compressor default bits", with_(compressor__float_bits=32), BASE),
    ("record defaults", with_(record={"log": 200, "grad_every": 1, "diverge_at": 1e30}), BASE),
    ("integral float top-level", with_(T=50.0, n=10.0), BASE),
    # defaults that depend on n and f, written out (n = 10, f = 2)
    ("cwtm's b = f", with_(aggregator="cwtm(b=2)"), with_(aggregator="cwtm")),
    ("cwtm's f or b", with_(aggregator="cwtm(f=1)"), with_(aggregator="cwtm(b=1)")),
    ("krum's m_nb = n − f − 2", with_(aggregator="krum(m_nb=6)"), with_(aggregator="krum")),
    ("multikrum's m = n − f", with_(aggregator="multikrum(m=8)"), with_(aggregator="multikrum")),
    ("mean ignores f", with_(aggregator="mean(f=1)"), with_(aggregator="mean")),
    ("cwmed's f only validates", with_(aggregator="cwmed(f=1)"), with_(aggregator="cwmed")),
    ("after bucketing krum sees 5 rows", with_(aggregator="bucketing+krum(m_nb=1)"),
     with_(aggregator="bucketing+krum")),
    ("every checkpoint either way", with_(T=30, record={"log": 200}), with_(T=30, record={"log": 100})),
    ("all checkpoints is every = 1", with_(T=30, record={"log": 200}), with_(T=30, record={"every": 1})),
]


@pytest.mark.parametrize(("a", "b"), [(a, b) for _, a, b in SAME_RUN], ids=[i for i, _, _ in SAME_RUN])
def test_one_run_has_one_id(a, b):
    assert normalize(a) == normalize(b)
    assert run_id(normalize(a)) == run_id(normalize(b))


DIFFERENT = [
    ("gamma", with_(algorithm__gamma=0.06)),
    ("eta2 differs from eta", with_(algorithm__eta2=0.2)),
    ("round-0 batch", with_(algorithm__init_batch=2)),
    ("k", with_(compressor__k=3)),
    ("stage parameter", with_(aggregator="nnm+cwtm(b=1)")),
    ("stage f differs from the run's", with_(aggregator="nnm+cwtm(f=1)")),
    ("pipeline", with_(aggregator="cwtm")),
    ("attack target", with_(attack={"name": "alie", "target": "message"})),
    ("problem parameter", with_(problem__lam=2.0)),
    ("cwtm's b below f", with_(aggregator="cwtm(b=1)")),
    ("krum's m_nb", with_(aggregator="krum(m_nb=3)")),
    ("nnm's own f", with_(aggregator="nnm(f=1)+cwtm")),
    ("sparser checkpoints", with_(record={"log": 20})),
]


@pytest.mark.parametrize("other", [c for _, c in DIFFERENT], ids=[i for i, _ in DIFFERENT])
def test_different_runs_have_different_ids(other):
    assert run_id(normalize(other)) != run_id(normalize(BASE))


@pytest.mark.parametrize("cfg", [BASE, *(b for _, _, b in SAME_RUN), *(c for _, c in DIFFERENT)])
def test_normalize_is_idempotent(cfg):
    once = normalize(cfg)
    assert normalize(once) == once


def test_canonical_form_writes_defaults_and_one_spec_string():
    c = normalize(with_(aggregator="bucketing(s=2)+krum(m_nb=3)"))
    assert c["algorithm"] == {"name": "byz_dm21", "gamma": 0.05, "batch": 1, "eta": 0.1, "eta2": 0.1,
                              "variant": "paper"}
    assert c["compressor"] == {"name": "top_k", "k": 2, "float_bits": 32}
    assert c["aggregator"] == {"name": "bucketing+krum(m_nb=3)"}  # s = 2 is bucketing's default
    assert c["problem"]["lam"] == 1.0 and isinstance(c["problem"]["d"], int)


def test_cclip_centre_stays_a_field():
    c = normalize(with_(aggregator={"name": "cclip", "center": [0.0] * 10}))
    assert c["aggregator"] == {"name": "cclip", "center": [0.0] * 10}
    assert normalize(c) == c


@pytest.mark.parametrize(("cfg", "words"), [
    (with_(record=5), ["record = 5", "table"]),
    (with_(record="log"), ["record = 'log'", "table"]),
    (with_(record={"grad_every": 51}), ["record.grad_every = 51", "[1, T = 50]"]),
    (with_(T=MAX_T + 1), [f"T = {MAX_T + 1}", f"[1, {MAX_T}]"]),
])
def test_record_and_horizon_are_checked(cfg, words):
    with pytest.raises(ConfigError) as err:
        normalize(cfg)
    assert all(w in str(err.value) for w in words), str(err.value)


@pytest.mark.parametrize(("changes", "words"), [
    ({"problem__d": 10**9}, ["d = 1000000000", "GB of memory"]),
    ({"n": 10**8}, ["n = 100000000", "GB of memory"]),
    ({"algorithm__batch": 10**12}, ["algorithm.batch = 1000000000000", "GB of memory"]),
    ({"T": 10**9, "record": {"every": 1}}, ["record.every = 1 over T = 1000000000", "GB of memory"]),
])
def test_runs_that_cannot_fit_are_refused_before_anything_is_allocated(changes, words, monkeypatch):
    from byzref import resources
    from byzref.config import build

    monkeypatch.setattr(resources, "available_memory", lambda: 16 * 10**9)  # a 16 GB machine
    with pytest.raises(ConfigError) as err:
        build(with_(**changes))
    assert all(w in str(err.value) for w in [*words, "16.0 GB available"]), str(err.value)


@pytest.mark.parametrize(("n", "aggregator", "at_least"), [
    (20000, "nnm+cwtm", 6.4e9),    # two (n, n) float64 matrices
    (20000, "krum", 6.4e9),
    (10**6, "cwtm", 1e10),         # the comparator list of the sorting network, ~n log²n / 4 entries
    (10**6, "nnm+cwtm", 1.6e13),
])
def test_the_estimate_counts_what_the_aggregator_allocates(n, aggregator, at_least, monkeypatch):
    from byzref import resources
    from byzref.config import build, memory_estimate

    cfg = normalize(with_(n=n, f=2, T=2, aggregator=aggregator, problem__d=5))
    from byzref.aggregators.pipeline import build_aggregator

    agg = build_aggregator(cfg["aggregator"]["name"], f=2)
    assert memory_estimate(cfg, 5, agg) >= at_least
    monkeypatch.setattr(resources, "available_memory", lambda: 4 * 10**9)
    with pytest.raises(ConfigError, match=f"aggregator '{re.escape(aggregator)}'.*GB of memory"):
        build(cfg)


def test_the_cwtm_estimate_bounds_the_comparator_list():
    import math

    from byzref.aggregators.cwtm import network_bytes, sorting_network

    for n in (10, 100, 1000, 5000):
        t = math.ceil(math.log2(n))
        assert len(sorting_network(n)) <= n * t * t / 4 <= network_bytes(n, 1) / 150


def test_a_data_file_counts_by_its_content_not_its_path(tmp_path, monkeypatch):
    data = "1 1:0.5 2:1.0\n-1 1:-0.5 3:2.0\n"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "d.svm").write_text(data)
    (tmp_path / "b" / "d.svm").write_text(data.replace("0.5", "0.25"))
    cfg = with_(problem={"name": "logreg_nonconvex", "data": "libsvm", "path": "d.svm"}, f=0, attack="none")
    ids = {}
    for folder in ("a", "b"):
        monkeypatch.chdir(tmp_path / folder)
        ids[folder] = run_id(normalize(cfg))
    assert ids["a"] != ids["b"]  # the same spelling, two files: two runs
    monkeypatch.chdir(tmp_path)
    assert run_id(normalize(with_(**{**{}, "problem": {**cfg["problem"], "path": "a/d.svm"}},
                                  f=0, attack="none"))) == ids["a"]  # two spellings, one file: one run
