"""``.. byzref-index::``: a table of every registered component and built-in claim, each linked to its
entry on its family page. Generated from the registries, so a new component appears here by itself, and
(with ``-n -W``) the build fails when its entry on the family page is missing.
"""

from __future__ import annotations

import inspect

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective


def _summary(obj) -> str:
    """The docstring's first paragraph on one line, without its pointer to the module docstring."""
    doc = inspect.getdoc(obj) or ""
    text = " ".join(doc.split("\n\n")[0].split())
    text = text.replace(" (module docstring)", "")
    return text.replace("|", "\\|")


def _families():
    from byzref.aggregators.base import AGGREGATORS, PRE_AGGREGATORS
    from byzref.algorithms.base import ALGORITHMS
    from byzref.attacks.base import ATTACKS
    from byzref.compressors.base import COMPRESSORS
    from problems.registry import PROBLEMS

    return [("Compressors", "compressor", COMPRESSORS), ("Aggregators", "aggregator", AGGREGATORS),
            ("Pre-aggregators", "pre-aggregator", PRE_AGGREGATORS), ("Attacks", "attack", ATTACKS),
            ("Algorithms", "algorithm", ALGORITHMS), ("Problems", "problem", PROBLEMS)]


def _table(title: str, rows: list[tuple[str, str]]) -> list[str]:
    out = [f".. list-table:: {title}", "   :header-rows: 1", "   :widths: 30 70", "",
           "   * - name", "     - what it is"]
    for ref, text in rows:
        out += [f"   * - {ref}", f"     - {text or ' '}"]
    return [*out, ""]


class ByzrefIndex(SphinxDirective):
    has_content = False

    def run(self):
        lines: list[str] = []
        for title, prefix, registry in _families():
            rows = [(f":ref:`{name} <{prefix}-{name}>`", _summary(registry.get(name)))
                    for name in sorted(registry.names())]
            lines += _table(title, rows)
        from theory.claims.base import CLAIM_KINDS
        from theory.suite import builtin_claims, negative_controls

        claims = [(f":ref:`{c.id} <claim-{c.id}>`", c.title.replace("*", "\\*").replace("|", "\\|"))
                  for c in [*builtin_claims(), *negative_controls()]]
        lines += _table("Built-in claims and negative controls", claims)
        kinds = [(f":ref:`{k} <claim-kind-{k}>`", _summary(CLAIM_KINDS.get(k))) for k in CLAIM_KINDS.names()]
        lines += _table("Claim kinds", kinds)
        container = nodes.container()
        self.state.nested_parse(StringList(lines, source="byzref-index"), self.content_offset, container)
        return container.children


def setup(app):
    app.add_directive("byzref-index", ByzrefIndex)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
