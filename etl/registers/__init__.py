"""Register adapters: the registers as delivered (BEF, UDDA, IND, AKM, LPR2, LPR3, SSSY) -> the
contract tables (docs/data-contract.md), which stay the build's intermediate layer.

``adapt(input_dir, out_dir)`` reads the register tables named in ``etl/config/registers/dst.toml``
(or a copy with another delivery's names), runs the staged SQL models of ``etl/registers/models``
and writes the contract tables into ``out_dir``; ``etl.build.build(..., layout="registers")`` then
builds from them as from any extract.
"""
from etl.registers.adapter import DEFAULT_MAPPING, RegisterError, adapt, load_mapping, models

__all__ = ["adapt", "load_mapping", "models", "RegisterError", "DEFAULT_MAPPING"]
