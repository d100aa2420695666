"""Theory claims as data and their empirical verification (SPEC §6). Filled in by a later issue."""
