"""The README's code examples run and test what they claim."""

import re
from pathlib import Path

import numpy as np
import pytest

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def _python_blocks():
    return re.findall(r"```python\n(.*?)```", README, flags=re.S)


def test_readme_property_test_example_runs_and_can_fail():
    (code,) = [b for b in _python_blocks() if "MyMedian" in b]
    ns: dict = {}
    exec(compile(code, "README.md", "exec"), ns)
    ns["test_my_median"]()  # hypothesis runs the property test
    # the same checks catch a rule that is not robust (the mean leaves the good rows' range)
    from byzref.testing import check_coordinate_range

    class MyMean(ns["Aggregator"]):
        def _aggregate(self, X, rng):
            return X.mean(axis=0)

    X = np.array([[0.0], [1.0], [1e6]])
    with pytest.raises(AssertionError, match="outside the good rows' range"):
        check_coordinate_range(MyMean(f=1), X, np.array([True, True, False]))


def test_readme_commands_match_ci():
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    test_cmd = re.search(r"\(b\).*?```bash\n(.*?)\n```", README, flags=re.S).group(1)
    assert test_cmd in ci


def test_readme_states_the_bad_input_count_the_suite_has():
    import importlib.util
    import sys

    path = Path(__file__).resolve().parent / "test_bad_inputs.py"
    spec = importlib.util.spec_from_file_location("_bad_inputs", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["_bad_inputs"] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    (stated,) = re.findall(r"`tests/test_bad_inputs.py` runs (\d+) such inputs", README.replace("\n  ", " "))
    assert int(stated) == len(mod.CASES)
