"""The synthetic imaging producers (centres): ids by region and type, and how often each is chosen
(Zipf within a region), configured from effects.toml."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from etl.synthetic.config import PRODUCER_TYPES, Municipalities

TYPE_LETTER = {"public_hospital": "H", "private_clinic": "P", "chiropractor_clinic": "K"}


@dataclass
class Producers:
    ids: list[str]             # producer_id labels
    offset: np.ndarray         # [region, type] -> first index into ids
    count: np.ndarray          # [type] -> producers per region
    probs: list[np.ndarray]    # [type] -> Zipf choice probabilities within a region

    @classmethod
    def build(cls, eff: dict, munis: Municipalities) -> "Producers":
        per = eff["producer"]["per_region"]
        counts = np.array([int(per[t]) for t in PRODUCER_TYPES])
        ids: list[str] = []
        offset = np.zeros((len(munis.region_names), len(PRODUCER_TYPES)), np.int32)
        for r, rcode in enumerate(munis.region_codes):
            for t, tname in enumerate(PRODUCER_TYPES):
                offset[r, t] = len(ids)
                ids += [f"S{rcode}{TYPE_LETTER[tname]}{j + 1:02d}" for j in range(counts[t])]
        s = float(eff["producer"]["zipf_exponent"])
        probs = [(1.0 / np.arange(1, c + 1) ** s) / (1.0 / np.arange(1, c + 1) ** s).sum() for c in counts]
        return cls(ids, offset, counts, probs)
