"""Robust aggregators and pre-aggregators; each rule's docstring cites its paper. One file per rule."""

from byzref.aggregators import (  # noqa: F401  (importing registers the components)
    bucketing,
    cclip,
    cwmed,
    cwtm,
    gm,
    krum,
    meamed,
    mean,
    multikrum,
    nnm,
)
from byzref.aggregators.base import AGGREGATORS, PRE_AGGREGATORS, Aggregator, PreAggregator
from byzref.aggregators.pipeline import Pipeline, build_aggregator

__all__ = ["AGGREGATORS", "PRE_AGGREGATORS", "Aggregator", "Pipeline", "PreAggregator", "build_aggregator"]
