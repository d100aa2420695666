"""Aggregator pipelines: the spec grammar, dict configs, stage validation and composition."""

import numpy as np
import pytest

from byzref.aggregators import AGGREGATORS, PRE_AGGREGATORS, Pipeline, build_aggregator
from byzref.aggregators.pipeline import parse_spec
from byzref.errors import ConfigError
from byzref.registry import UnknownNameError


@pytest.mark.parametrize(
    ("spec", "want"),
    [
        ("nnm+cwtm", [("nnm", [], {}), ("cwtm", [], {})]),
        ("bucketing(s=2)+cwmed", [("bucketing", [], {"s": 2}), ("cwmed", [], {})]),
        ("nnm+bucketing(s=2)+krum(m_nb=3)",
         [("nnm", [], {}), ("bucketing", [], {"s": 2}), ("krum", [], {"m_nb": 3})]),
        (" bucketing( 2 ) + cwmed ", [("bucketing", [2], {}), ("cwmed", [], {})]),
        ("gm(start=zero, nu=1e+3, tol=.5, max_iter=-0)",
         [("gm", [], {"start": "zero", "nu": 1000.0, "tol": 0.5, "max_iter": 0})]),
        ("gm(start='zero', nu=none)", [("gm", [], {"start": "zero", "nu": None})]),
        ("x(a=true, b=False, c=\"1+2\")", [("x", [], {"a": True, "b": False, "c": "1+2"})]),
        ("cwtm()", [("cwtm", [], {})]),
    ],
)
def test_parse_spec(spec, want):
    assert parse_spec(spec) == want


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ("", "non-empty string"),
        ("nnm++cwtm", "cannot parse stage ''"),
        ("nnm(+cwtm", "unbalanced"),
        ("cwtm)", "unbalanced"),
        ("cwtm(b=1, 2)", "positional argument after keyword"),
        ("cwtm(b=1, b=2)", "b given twice"),
        ("cwtm(b=)", "empty argument value"),
        ("__import__('os').system('true')", "unbalanced|cannot parse stage"),
        ("1abc", "cannot parse stage"),
    ],
)
def test_parse_errors(spec, match):
    with pytest.raises(ConfigError, match=match):
        build_aggregator(spec)


def test_unknown_stage_names_list_the_valid_names():
    with pytest.raises(UnknownNameError, match=r"unknown aggregator 'cwtmm'; did you mean 'cwtm'\?.*"
                                               r"cclip, cwmed, cwtm, gm, krum, meamed, mean, multikrum"):
        build_aggregator("nnm+cwtmm")
    with pytest.raises(UnknownNameError, match=r"unknown pre-aggregator 'nmm'.*bucketing, nnm"):
        build_aggregator("nmm+cwtm")


def test_stage_roles_are_checked():
    with pytest.raises(ConfigError, match="'cwtm' is an aggregator; a pipeline is pre-aggregators followed"):
        build_aggregator("cwtm+cwmed")
    with pytest.raises(ConfigError, match="'nnm' is a pre-aggregator"):
        build_aggregator("nnm+nnm")
    with pytest.raises(ConfigError, match="'bucketing' is a pre-aggregator"):
        build_aggregator("bucketing(2)")


def test_positional_arguments_fill_parameters_other_than_f():
    assert build_aggregator("bucketing(3)+cwtm(1)", f=1).pre[0].s == 3
    assert build_aggregator("bucketing(3)+cwtm(1)", f=1).final.b == 1
    assert build_aggregator("gm(zero, 0.5)").nu == 0.5
    with pytest.raises(ConfigError, match=r"takes at most 1 positional argument\(s\) \(s\), got 2"):
        build_aggregator("bucketing(2, 3)+cwtm")
    with pytest.raises(ConfigError, match="s given both by position and by name"):
        build_aggregator("bucketing(2, s=3)+cwtm")


def test_dict_configs_pass_params_to_the_final_stage():
    agg = build_aggregator({"name": "cwtm", "b": 2}, f=1)
    assert type(agg) is AGGREGATORS.get("cwtm") and (agg.b, agg.f) == (2, 1)
    pipe = build_aggregator({"name": "nnm+cwtm", "b": 2}, f=1)
    assert isinstance(pipe, Pipeline) and pipe.final.b == 2 and pipe.pre[0].f == 1
    with pytest.raises(ConfigError, match="sets b both in 'name' and as fields"):
        build_aggregator({"name": "cwtm(b=1)", "b": 2})
    with pytest.raises(ConfigError, match="has no 'name' field"):
        build_aggregator({"b": 2})
    with pytest.raises(ConfigError, match=r"unknown parameter\(s\) q; accepted: b, f"):
        build_aggregator({"name": "nnm+cwtm", "q": 2})


def test_every_stage_gets_f_unless_it_sets_its_own():
    pipe = build_aggregator("nnm+bucketing(s=2)+krum(m_nb=1)", f=2)
    assert [s.f for s in (*pipe.pre, pipe.final)] == [2, 2, 2]
    pipe = build_aggregator("nnm(f=1)+cwtm", f=2)
    assert (pipe.pre[0].f, pipe.final.f) == (1, 2)


def test_pipeline_equals_the_composition_of_its_stages():
    X = np.random.default_rng(0).standard_normal((9, 4))
    pipe = build_aggregator("nnm+bucketing(s=2)+cwtm", f=1)
    assert pipe.random and pipe.name == "nnm+bucketing(s=2)+cwtm"
    Y = PRE_AGGREGATORS.build("nnm", f=1)(X)
    Z = PRE_AGGREGATORS.build({"name": "bucketing", "s": 2}, f=1)(Y, np.random.default_rng(5))
    want = AGGREGATORS.build("cwtm", f=1).evaluate(Z)
    np.testing.assert_array_equal(pipe.evaluate(X, np.random.default_rng(5)), want)
    assert pipe.describe(9)["params"]["stages"][1] == {"name": "bucketing", "f": 1, "s": 2}


def test_check_sees_the_rows_each_stage_receives():
    pipe = build_aggregator("bucketing(s=2)+cwmed", f=1)
    pipe.check(5)  # ⌈5/2⌉ = 3 rows: f = 1 < 3/2
    with pytest.raises(ConfigError, match="cwmed: f = 1 with n = 2 rows"):
        pipe.check(4)
    with pytest.raises(ConfigError, match="cwmed: f = 1 with n = 2 rows"):
        pipe.evaluate(np.zeros((4, 1)), np.random.default_rng(0))
    with pytest.raises(ConfigError, match=r"nnm: f = 3 must be < n = 3"):
        build_aggregator("nnm+mean", f=3).check(3)


def test_stateful_final_stage_remembers_server_calls_only():
    pipe = build_aggregator("nnm+cclip(tau=1, L=1)", f=0)
    assert pipe.stateful and not pipe.random
    X = np.array([[10.0], [10.0]])
    np.testing.assert_allclose(pipe.evaluate(X), [1.0])
    np.testing.assert_allclose(pipe(X), [1.0])
    np.testing.assert_allclose(pipe(X), [2.0])
    pipe.reset()
    np.testing.assert_allclose(pipe(X), [1.0])
