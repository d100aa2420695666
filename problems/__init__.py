"""Objectives with stochastic oracles and exactly known constants (SPEC §1, §7)."""
