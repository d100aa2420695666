"""byzref.select on hand-made records: best step size by median over seeds, max-min over attacks."""

import math
import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from byzref.errors import ConfigError
from byzref.select import best_step, group, key_value, max_min_over_attacks, method_label, varying_keys


def rec(alg="byz_dm21", agg="nnm+cwtm", att="alie", gamma=0.5, seed=0, value=1.0, status="ok", comp="top_k",
        **alg_extra):
    cfg = {"seed": seed, "n": 20, "f": 8, "T": 100, "problem": {"name": "logreg_nonconvex"},
           "algorithm": {"name": alg, "gamma": gamma, **alg_extra}, "compressor": {"name": comp, "k": 1},
           "aggregator": {"name": agg}, "attack": {"name": att, "target": "state"}, "record": {"log": 10}}
    return {"run_id": f"{alg}-{agg}-{att}-{gamma}-{seed}", "config": cfg, "status": status,
            "summary": {"final_grad_sq": value, "avg_grad_sq": 10 * value}}


def test_method_label_and_keys():
    assert method_label(rec()) == "Byz-DM21, top_k"
    assert method_label(rec(alg="byz_vr_marina", comp="identity")) == "Byz-VR-MARINA"
    named = rec()
    named["config"]["name"] = "a sweep's title"
    assert method_label(named) == "Byz-DM21, top_k"
    r = rec(agg="nnm+gm", att="ipm", gamma=0.05)
    assert (key_value(r, "aggregator"), key_value(r, "attack"), key_value(r, "algorithm.gamma")) == \
        ("nnm+gm", "ipm", 0.05)
    with pytest.raises(ConfigError, match=r"no field 'algorithm\.gama'"):
        key_value(r, "algorithm.gama")
    with pytest.raises(ConfigError, match="'nope'"):
        group([r], ("nope",))


def test_best_step_uses_the_median_over_seeds_and_ranks_diverged_runs_worst():
    runs = []
    # setting (byz_dm21, alie): medians 2 (γ=0.5; its mean 34.3 would lose), 3 (γ=0.05), diverged (γ=0.005)
    for s, v in enumerate([1.0, 100.0, 2.0]):
        runs.append(rec(gamma=0.5, seed=s, value=v))
    for s in range(3):
        runs.append(rec(gamma=0.05, seed=s, value=3.0))
        runs.append(rec(gamma=0.005, seed=s, value=0.0, status="diverged"))  # tiny value, but diverged
    # setting (byz_dm21, ipm): γ=0.005 best; γ=0.5 has 2 of 3 seeds diverged → median +inf
    for s in range(3):
        runs.append(rec(att="ipm", gamma=0.005, seed=s, value=0.5 + s))
        runs.append(rec(att="ipm", gamma=0.05, seed=s, value=2.0))
        runs.append(rec(att="ipm", gamma=0.5, seed=s, value=1e-9, status="ok" if s == 0 else "diverged"))
    sel = best_step(runs, group_by=("method", "attack"))
    assert sel.chosen == {("Byz-DM21, top_k", "alie"): 0.5, ("Byz-DM21, top_k", "ipm"): 0.005}
    assert sel.scores[("Byz-DM21, top_k", "alie")] == {0.5: 2.0, 0.05: 3.0, 0.005: math.inf}
    assert sel.scores[("Byz-DM21, top_k", "ipm")][0.5] == math.inf
    assert len(sel.runs) == 6
    assert {(key_value(r, "attack"), key_value(r, "algorithm.gamma")) for r in sel.runs} == \
        {("alie", 0.5), ("ipm", 0.005)}
    # the default grouping is every varying field but the parameter and the seed: here the attack
    assert sel.chosen.keys() != best_step(runs).chosen.keys()
    assert list(best_step(runs).chosen.values()) == [0.5, 0.005]
    assert best_step(runs).group_by == ("attack.name",)
    # by the other metric (avg = 10 × final) the choice is the same
    by_avg = best_step(runs, metric="avg_grad_sq", group_by=("attack",))
    assert by_avg.chosen == {("alie",): 0.5, ("ipm",): 0.005}


def test_best_step_ties_go_to_fewer_divergences_then_to_the_smaller_value():
    runs = [rec(gamma=g, seed=s, value=1.0) for g in (0.5, 0.05) for s in range(3)]
    assert best_step(runs, group_by=("method",)).chosen == {("Byz-DM21, top_k",): 0.05}
    runs += [rec(gamma=0.01, seed=s, value=1.0, status="diverged" if s == 2 else "ok") for s in range(3)]
    assert best_step(runs, group_by=("method",)).chosen == {("Byz-DM21, top_k",): 0.05}
    with pytest.raises(ConfigError, match="metric must be one of"):
        best_step(runs, metric="loss")


def test_max_min_chooses_the_best_worst_case_over_attacks():
    runs = []
    for s in range(2):
        # Byz-DM21: γ=0.5 is best under alie (1) but worst-case 10 (ipm); γ=0.05 worst-case 6 → chosen
        runs += [rec(gamma=0.5, att="alie", seed=s, value=1.0), rec(gamma=0.5, att="ipm", seed=s, value=10.0)]
        runs += [rec(gamma=0.05, att="alie", seed=s, value=5.0), rec(gamma=0.05, att="ipm", seed=s, value=6)]
        # Byz-EF21: γ=0.005 ran only under alie (missing ipm → +inf), γ=0.5 worst-case 4 → chosen
        runs += [rec("byz_ef21", gamma=0.005, att="alie", seed=s, value=0.1),
                 rec("byz_ef21", gamma=0.5, att="alie", seed=s, value=3.0),
                 rec("byz_ef21", gamma=0.5, att="ipm", seed=s, value=4.0)]
    sel = max_min_over_attacks(runs)
    assert sel.group_by == ("algorithm.name",)
    assert sel.chosen == {("byz_dm21",): 0.05, ("byz_ef21",): 0.5}
    assert sel.scores[("byz_dm21",)] == {0.5: 10.0, 0.05: 6.0}
    assert sel.scores[("byz_ef21",)][0.005] == math.inf
    assert len(sel.runs) == 8  # both attacks × 2 seeds for each method's chosen γ
    with pytest.raises(ConfigError, match="max-min axis"):
        max_min_over_attacks(runs, group_by=("method", "attack"))


def test_fields_missing_in_some_runs_group_as_none():
    runs = [rec(gamma=0.5, eta=0.1), rec("byz_ef21", gamma=0.5)]
    assert "algorithm.eta" in varying_keys(runs)
    assert list(group(runs, ("algorithm.eta",))) == [(0.1,), (None,)]
    assert len(best_step(runs).chosen) == 2


@settings(max_examples=40)
@given(st.lists(st.lists(st.one_of(st.floats(0.01, 100.0), st.just(None)), min_size=3, max_size=3),
                min_size=2, max_size=4, unique_by=lambda v: tuple(x is None for x in v) + tuple(v)))
def test_best_step_matches_a_brute_force_median(table):
    gammas = [0.5 / 10**j for j in range(len(table))]
    runs = [rec(gamma=g, seed=s, value=0.0 if v is None else v, status="diverged" if v is None else "ok")
            for g, vals in zip(gammas, table, strict=True) for s, v in enumerate(vals)]

    def score(vals):
        return statistics.median([math.inf if v is None else v for v in vals]), sum(v is None for v in vals)

    expected = min(zip(gammas, table, strict=True), key=lambda gv: (*score(gv[1]), gv[0]))[0]
    assert best_step(runs, group_by=("method",)).chosen == {("Byz-DM21, top_k",): expected}


def test_where_filters_and_or_within_a_key_and_names_the_values_on_no_match():
    from byzref.select import filter_runs, parse_where

    runs = [rec(alg, agg=agg, att=att, gamma=g) for alg in ("byz_dm21", "byz_ef21")
            for agg in ("cwtm", "nnm+cwtm") for att in ("alie", "ipm") for g in (0.1, 0.05)]
    got = filter_runs(runs, parse_where(["attack=alie", "algorithm.gamma=0.1", "aggregator=cwtm",
                                         "aggregator=nnm+cwtm"]))
    assert len(got) == 4 and all(key_value(r, "attack") == "alie" and key_value(r, "algorithm.gamma") == 0.1
                                 for r in got)
    with pytest.raises(ConfigError, match=r"attack=gauss matches no run; values of attack here: alie, ipm"):
        filter_runs(runs, parse_where(["attack=gauss"]))
    with pytest.raises(ConfigError, match=r"runs have no field 'algorithm\.lr'; fields: "):
        filter_runs(runs, parse_where(["algorithm.lr=1"]))
    with pytest.raises(ConfigError, match="has no '='"):
        parse_where(["attack"])
