"""Benchmark toolkit: datasets, protocols, evaluation, plots (independent of pysot.models)."""
