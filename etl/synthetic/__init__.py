"""Synthetic register-style extracts for the lumbar imaging atlas.

``generate(out_dir, scale, seed)`` writes the seven tables of docs/data-contract.md as Parquet files
with planted, documented effects (``effects.toml``; docs/synthetic-data.md). The figures are made
up: they are not Danish statistics.
"""
from etl.synthetic.config import EFFECTS_FILE, load_effects
from etl.synthetic.generator import generate

__all__ = ["generate", "load_effects", "EFFECTS_FILE"]
