"""The problem registry: ``@PROBLEMS.register("name")`` on each problem class.

``PROBLEMS`` is a :class:`byzref.registry.Registry`; :func:`problems.build_problem` builds from it.
"""

from __future__ import annotations

from byzref.registry import Registry

__all__ = ["PROBLEMS"]

PROBLEMS = Registry("problem")
