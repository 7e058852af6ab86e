"""Simulator of a hospital record (DPI): contextual call and document gateway (seed 002)."""
