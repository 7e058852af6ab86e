"""Benchmarks (``make bench``). Each module has ``main()``, measures medians and writes its section of
``docs/benchmarks.md`` through ``benchmarks.report``."""
