"""The problem registry: ``@PROBLEMS.register("name")`` on each problem class."""

from __future__ import annotations

from byzref.registry import Registry

__all__ = ["PROBLEMS"]

PROBLEMS = Registry("problem")
