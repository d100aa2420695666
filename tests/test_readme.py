"""The README states what .ci/run runs and what the suite checks (its examples live in the docs,
where tests/test_docs_examples.py runs them)."""

import re
from pathlib import Path

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_readme_commands_match_ci():
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    test_cmd = re.search(r"\(b\).*?```bash\n(.*?)\n```", README, flags=re.S).group(1)
    docs_cmd = re.search(r"\(c\).*?```bash\n(.*?)\n```", README, flags=re.S).group(1)
    lines = [ln for ln in ci.splitlines() if ln and not ln.startswith("#")]
    assert lines[-2:] == [test_cmd, docs_cmd]  # the tests, then the docs build


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
    guide = (Path(__file__).resolve().parents[1] / "docs" / "guides" / "sweeps.rst").read_text()
    (in_guide,) = re.findall(r"The test suite runs (\d+) such inputs", guide)
    assert int(in_guide) == len(mod.CASES)
