"""Figures from results and verification reports (ax-first functions). Filled in by a later issue."""
