"""The documentation covers every registered component, built-in claim and public module.

The Sphinx build (``make -C docs html``, run by ``.ci/run``) fails on a broken reference; these tests
fail when a component, claim or module has no page entry at all, so a newcomer always finds its
definition from the index: index → family page → the entry, whose label is ``<family>-<name>``.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _labels(page: str) -> set[str]:
    text = (DOCS / "math" / page).read_text()
    return {m.lower() for m in re.findall(r"^\.\. _([^:]+):\s*$", text, flags=re.M)}


def _families():
    from byzref.aggregators.base import AGGREGATORS, PRE_AGGREGATORS
    from byzref.algorithms.base import ALGORITHMS
    from byzref.attacks.base import ATTACKS
    from byzref.compressors.base import COMPRESSORS
    from problems.registry import PROBLEMS

    return [("compressors.rst", "compressor", COMPRESSORS), ("aggregators.rst", "aggregator", AGGREGATORS),
            ("aggregators.rst", "pre-aggregator", PRE_AGGREGATORS), ("attacks.rst", "attack", ATTACKS),
            ("algorithms.rst", "algorithm", ALGORITHMS), ("problems.rst", "problem", PROBLEMS)]


@pytest.mark.parametrize("page,prefix,registry", _families(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_registered_component_has_an_entry_on_its_family_page(page, prefix, registry):
    labels = _labels(page)
    missing = [name for name in registry.names() if f"{prefix}-{name}".lower() not in labels]
    assert not missing, f"docs/math/{page} has no '.. _{prefix}-<name>:' entry for {missing}"


def test_every_built_in_claim_and_claim_kind_has_an_entry():
    from theory.claims.base import CLAIM_KINDS
    from theory.suite import builtin_claims, negative_controls

    labels = _labels("claims.rst")
    ids = [c.id for c in builtin_claims()] + [c.id for c in negative_controls()]
    missing = [i for i in ids if f"claim-{i}".lower() not in labels]
    missing += [k for k in CLAIM_KINDS.names() if f"claim-kind-{k}".lower() not in labels]
    assert not missing, f"docs/math/claims.rst has no entry for {missing}"


def _public_modules():
    mods = []
    for pkg in ("byzref", "problems", "theory", "plots"):
        for path in sorted((ROOT / pkg).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "__pycache__" in parts or any(p.startswith("_") and p != "__init__" for p in parts):
                continue
            mods.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return mods


def test_every_public_module_is_in_the_api_reference():
    documented = set()
    for page in (DOCS / "api").glob("*.rst"):
        documented |= set(re.findall(r"^\.\. automodule:: (\S+)", page.read_text(), flags=re.M))
    missing = [m for m in _public_modules() if m not in documented]
    stale = sorted(documented - set(_public_modules()))
    assert not missing, f"public modules without an API page entry: {missing}"
    assert not stale, f"API pages document modules that are not public modules: {stale}"


def test_the_index_reaches_every_family_page_in_one_click():
    index = (DOCS / "index.rst").read_text() + (DOCS / "math" / "index.rst").read_text()
    for page in ("setting", "compressors", "aggregators", "attacks", "algorithms", "problems", "claims"):
        assert f"math/{page}" in index or f"\n   {page}\n" in index, page
