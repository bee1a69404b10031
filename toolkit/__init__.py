"""Benchmark toolkit: box conventions, VOT rules, datasets, protocols, evaluation, plots; model-free
(imports nothing from pysot; layers and import rules: docs/architecture.md)."""
