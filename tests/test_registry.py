"""Registry, validators and named random streams."""

import numpy as np
import pytest

from byzref.errors import ConfigError, check_int, check_real
from byzref.registry import Registry, UnknownNameError
from byzref.rng import stream


def _registry():
    reg = Registry("widget")

    @reg.register("top_k")
    class TopK:
        def __init__(self, k=1):
            self.k = k

    @reg.register("rand_k")
    class RandK:
        def __init__(self, k=1, f=0):
            self.k, self.f = k, f

    return reg


def test_unknown_name_lists_valid_names_and_closest_match():
    reg = _registry()
    with pytest.raises(UnknownNameError) as exc:
        reg.build({"name": "topk", "k": 3})
    msg = str(exc.value)
    assert "'top_k'" in msg and "rand_k, top_k" in msg and "did you mean" in msg
    assert isinstance(exc.value, ConfigError)


def test_unknown_parameter_names_accepted_ones():
    with pytest.raises(ConfigError, match=r"unknown parameter\(s\) kk; accepted: k"):
        _registry().build({"name": "top_k", "kk": 3})


def test_context_only_reaches_constructors_that_accept_it():
    reg = _registry()
    assert reg.build({"name": "rand_k", "k": 2}, f=3).f == 3
    assert reg.build({"name": "rand_k", "k": 2, "f": 1}, f=3).f == 1  # config wins
    assert reg.build("top_k", f=3).k == 1


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("eta", 0.0, 0, 1, True, False), r"eta = 0.0 is outside the allowed range \(0, 1\]"),
        (("eta", 1.5, 0, 1, True, False), r"eta = 1.5 is outside"),
        (("gamma", float("nan"), 0, None, True, False), r"gamma = nan is not finite"),
        (("gamma", "x", 0, None, True, False), r"gamma must be a real number"),
    ],
)
def test_check_real_messages(args, match):
    field, value, lo, hi, lo_open, hi_open = args
    with pytest.raises(ConfigError, match=match):
        check_real(field, value, lo, hi, lo_open=lo_open, hi_open=hi_open)


def test_check_real_and_int_accept_valid_values():
    assert check_real("eta", 1, 0, 1, lo_open=True) == 1.0
    assert check_int("k", 3.0, 1, 5) == 3
    with pytest.raises(ConfigError, match=r"k = 7 is outside the allowed range \[1, 5\]"):
        check_int("k", 7, 1, 5)
    with pytest.raises(ConfigError, match="k must be an integer"):
        check_int("k", 2.5, 1, 5)


def test_streams_are_named_and_independent_of_order():
    a1 = stream(7, "attack").standard_normal(4)
    _ = stream(7, "compressor").standard_normal(100)
    a2 = stream(7, "attack").standard_normal(4)
    assert np.array_equal(a1, a2)
    assert not np.array_equal(a1, stream(7, "compressor").standard_normal(4))
    assert not np.array_equal(a1, stream(8, "attack").standard_normal(4))
    assert not np.array_equal(stream(7, "worker", 0).random(3), stream(7, "worker", 1).random(3))


def test_unknown_parameter_suggests_the_closest_accepted_one():
    with pytest.raises(ConfigError) as exc:
        _registry().build({"name": "rand_k", "kk": 3})
    assert str(exc.value) == ("widget 'rand_k' got unknown parameter(s) kk; accepted: f, k "
                              "(use one of these; did you mean 'k'?)")
