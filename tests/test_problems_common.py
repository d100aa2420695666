"""Conformance tests run on every registered problem, built from its ``test_config`` (issue 3)."""

import json

import numpy as np
import pytest

from byzref.errors import ConfigError
from byzref.registry import UnknownNameError
from problems import PROBLEMS, Problem, build_problem

N, F = 5, 1
NAMES = PROBLEMS.names()


def make(name, seed=0, **over):
    cls = PROBLEMS.get(name)
    return build_problem({"name": name, **cls.test_config, **over}, np.random.default_rng(seed), n=N, f=F)


@pytest.fixture(scope="module", params=NAMES)
def prob(request):
    return make(request.param)


def points(p, k, seed=1, scale=1.0):
    rng = np.random.default_rng(seed)
    return [p.x0() + scale * rng.standard_normal(p.d) for _ in range(k)]


def test_registry_has_the_issue_problems():
    want = {"quadratic", "nonconvex_synthetic", "logreg_nonconvex", "logreg_l2", "least_squares"}
    assert want <= set(NAMES)
    with pytest.raises(UnknownNameError, match="quadratic"):
        build_problem({"name": "quadratc"}, np.random.default_rng(0), n=3)


def test_shapes_and_describe_is_json(prob):
    assert isinstance(prob, Problem) and (prob.n, prob.f) == (N, F)
    x = prob.x0()
    assert x.shape == (prob.d,)
    assert prob.worker_grads(x).shape == (N, prob.d)
    assert prob.grad(x).shape == (prob.d,)
    s = prob.draw(np.random.default_rng(0), 3)
    assert prob.stoch_grads(x, s).shape == (N, prob.d)
    desc = json.loads(json.dumps(prob.describe()))
    assert desc["name"] == prob.name and desc["n"] == N and desc["d"] == prob.d
    assert desc["L"] == pytest.approx(prob.constants.L)
    json.dumps(prob.constants.as_dict())
    assert prob.constants.L_i.shape == (N,)
    g = N - F
    assert prob.constants.L_tilde == pytest.approx(np.sqrt(np.mean(prob.constants.L_i[:g] ** 2)))


def test_grad_is_mean_of_good_worker_grads_and_loss_matches(prob):
    for x in points(prob, 3):
        W = prob.worker_grads(x)
        np.testing.assert_allclose(prob.grad(x), W[: N - F].mean(axis=0), rtol=1e-12, atol=1e-14)
        assert prob.gap(x) == pytest.approx(prob.loss(x) - prob.constants.f_star, rel=1e-9, abs=1e-12)


def test_gradient_matches_central_finite_differences(prob):
    rng = np.random.default_rng(3)
    for x in points(prob, 3):
        v = rng.standard_normal(prob.d)
        v /= np.linalg.norm(v)
        h = 1e-5
        fd = (prob.loss(x + h * v) - prob.loss(x - h * v)) / (2 * h)
        assert prob.grad(x) @ v == pytest.approx(fd, rel=1e-6, abs=1e-8)


def test_L_and_L_i_never_exceeded_on_random_pairs(prob):
    L, L_i = prob.constants.L, prob.constants.L_i
    for scale in (0.1, 1.0, 10.0):
        pts = points(prob, 8, seed=int(scale * 10), scale=scale)
        for x, y in zip(pts[::2], pts[1::2], strict=True):
            dist = np.linalg.norm(x - y)
            assert np.linalg.norm(prob.grad(x) - prob.grad(y)) <= L * dist * (1 + 1e-10)
            per = np.linalg.norm(prob.worker_grads(x) - prob.worker_grads(y), axis=1)
            assert (per <= L_i * dist * (1 + 1e-10)).all()


def test_pair_oracle_equals_two_single_calls_and_diffs(prob):
    x, y = points(prob, 2, seed=5)
    for batch in (1, 4):
        s = prob.draw(np.random.default_rng(batch), batch)
        a, b = prob.stoch_grads_pair(x, y, s)
        np.testing.assert_allclose(a, prob.stoch_grads(x, s), rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(b, prob.stoch_grads(y, s), rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(prob.stoch_grad_diffs(x, y, s), a - b, rtol=1e-12, atol=1e-14)
        out = np.empty((N, prob.d))
        assert prob.stoch_grads(x, s, out=out) is out
        np.testing.assert_array_equal(out, a)


def test_stochastic_gradients_are_unbiased_on_average(prob):
    """Monte-Carlo: the mean of K draws is within 6 standard errors of ∇f_i(x) (per coordinate)."""
    x = points(prob, 1, seed=7)[0]
    rng = np.random.default_rng(11)
    K = 400
    G = np.array([prob.stoch_grads(x, prob.draw(rng, 1)) for _ in range(K)])
    se = G.std(axis=0, ddof=1) / np.sqrt(K)
    err = np.abs(G.mean(axis=0) - prob.worker_grads(x))
    assert (err <= 6 * se + 1e-12).all()


def test_same_seed_same_instance():
    for name in NAMES:
        p, q = make(name, seed=4), make(name, seed=4)
        x = p.x0() + 0.5
        np.testing.assert_array_equal(p.x0(), q.x0())
        np.testing.assert_array_equal(p.worker_grads(x), q.worker_grads(x))
        assert not np.array_equal(p.worker_grads(x), make(name, seed=5).worker_grads(x))


@pytest.mark.parametrize("name", NAMES)
def test_bad_sizes_are_config_errors_naming_the_field(name):
    rng = np.random.default_rng(0)
    cfg = {"name": name, **PROBLEMS.get(name).test_config}
    with pytest.raises(ConfigError, match=r"\bn\b"):
        build_problem(cfg, rng, n=0)
    with pytest.raises(ConfigError, match=r"\bf\b"):
        build_problem(cfg, rng, n=3, f=3)
    with pytest.raises(ConfigError, match="rng"):
        build_problem(cfg, None, n=3)
    with pytest.raises(ConfigError, match="unknown parameter"):
        build_problem({**cfg, "bogus": 1}, rng, n=3)


def test_bad_call_shapes_are_config_errors(prob):
    x = prob.x0()
    s = prob.draw(np.random.default_rng(0))
    with pytest.raises(ConfigError, match="x has shape"):
        prob.grad(np.zeros(prob.d + 1))
    with pytest.raises(ConfigError, match="x_new has shape"):
        prob.stoch_grads_pair(np.zeros(2), x, s)
    with pytest.raises(ConfigError, match="samples"):
        prob.stoch_grads(x, s[:-1])
    with pytest.raises(ConfigError, match="out"):
        prob.worker_grads(x, out=np.empty((N, prob.d + 1)))
    with pytest.raises(ConfigError, match="batch"):
        prob.draw(np.random.default_rng(0), 0)
