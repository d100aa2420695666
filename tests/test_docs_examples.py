"""The guides' code examples run and do what the pages say (executed from the .rst files themselves,
so the pages and the tests cannot drift)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from theory.verdicts import FAIL, PASS

GUIDES = Path(__file__).resolve().parents[1] / "docs" / "guides"


def code_blocks(page: str, language: str = "python") -> list[str]:
    """The bodies of the page's ``.. code-block:: <language>`` directives, dedented."""
    text = (GUIDES / page).read_text()
    pattern = rf"^\.\. code-block:: {language}\n((?:[ \t]*\n|   .*\n)+)"
    return ["\n".join(line[3:] for line in m.group(1).splitlines()).strip() + "\n"
            for m in re.finditer(pattern, text, flags=re.M)]


@pytest.fixture(scope="module")
def mypkg(tmp_path_factory):
    """The own-components guide's package, written from its ``# mypkg/<file>.py`` blocks."""
    root = tmp_path_factory.mktemp("guide")
    (root / "mypkg").mkdir()
    (root / "mypkg" / "__init__.py").write_text("")
    files = {}
    for block in code_blocks("own_components.rst"):
        first = block.splitlines()[0]
        m = re.fullmatch(r"# ((?:mypkg/)?\w+\.py)", first)
        if m:
            files[m.group(1)] = block
            (root / m.group(1)).write_text(block)
    assert {"mypkg/compressors.py", "mypkg/rules.py", "mypkg/attacks.py", "mypkg/methods.py",
            "mypkg/problems.py", "test_mypkg.py"} <= set(files)
    sys.path.insert(0, str(root))
    yield root
    sys.path.remove(str(root))
    for name in [m for m in sys.modules if m == "mypkg" or m.startswith("mypkg.")]:
        del sys.modules[name]


def test_own_components_guide_property_tests_pass(mypkg):
    env = {**os.environ, "PYTHONPATH": str(mypkg)}
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_mypkg.py"],
                         cwd=mypkg, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert re.search(r"\b3 passed\b", out.stdout), out.stdout[-500:]


def test_own_components_guide_checks_catch_a_rule_that_is_not_robust(mypkg):
    from mypkg.rules import MyMedian

    from byzref.testing import check_coordinate_range

    class MyMean(MyMedian):
        def _aggregate(self, X, rng):
            return X.mean(axis=0)

    X = np.array([[0.0], [1.0], [1e6]])
    good = np.array([True, True, False])
    check_coordinate_range(MyMedian(f=1), X, good)
    with pytest.raises(AssertionError, match="outside the good rows' range"):
        check_coordinate_range(MyMean(f=1), X, good)


def test_own_components_guide_runs_its_components_from_configs(mypkg):
    (code,) = [b for b in code_blocks("own_components.rst") if "byzref.run(cfg)" in b]
    ns: dict = {}
    exec(compile(code, "own_components.rst", "exec"), ns)  # asserts MyEF21SGD == byz_ef21_sgd bit for bit
    res = ns["res"]
    assert res.status == "ok"
    assert res.config["compressor"]["name"] == "mypkg.compressors:RandomBlock"
    assert res.config["aggregator"]["name"] == "mypkg.rules:MedianNormClip(factor=1.5)+mypkg.rules:MyMedian"


def test_own_claim_guide_example():
    (code,) = [b for b in code_blocks("own_claim.rst") if "RateClaim(" in b]
    ns: dict = {}
    exec(compile(code, "own_claim.rst", "exec"), ns)
    report, gd, descent_bound, BoundClaim = ns["report"], ns["gd"], ns["descent_bound"], ns["BoundClaim"]
    assert report["my.dm21_identity"].verdict.verdict == PASS
    assert report["my.gd_descent"].verdict.verdict == PASS
    emp, bnd = report["my.gd_descent"].data["empirical"], report["my.gd_descent"].data["bound"]
    assert 0 < emp <= bnd
    # the same bound four times tighter is violated: the check has teeth
    tight = BoundClaim("tight", "t", gd, bound=lambda p, c: descent_bound(p, c) / 4)
    assert ns["verify"]([tight], scale="quick", workers=1)["tight"].verdict.verdict == FAIL


def test_quickstart_config_is_a_complete_valid_config():
    import tomllib

    from byzref.config import build

    (block,) = [b for b in code_blocks("quickstart.rst", "toml") if b.startswith("seed")]
    cfg = tomllib.loads(block)
    spec = build(cfg)  # raises ConfigError on any missing or invalid field
    assert spec.algorithm.name == "byz_dm21" and spec.problem.d == 100
    assert (spec.cfg["T"], spec.cfg["n"], spec.cfg["f"], spec.cfg["aggregator"]["name"]) == (5000, 20, 4,
                                                                                            "nnm+cwtm")
