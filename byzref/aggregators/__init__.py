"""Robust aggregators and pre-aggregators (SPEC §3). One file per rule."""

from byzref.aggregators.base import AGGREGATORS, PRE_AGGREGATORS, Aggregator, PreAggregator

__all__ = ["AGGREGATORS", "PRE_AGGREGATORS", "Aggregator", "PreAggregator"]
