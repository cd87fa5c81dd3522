"""The release: what may leave the secure environment, precomputed, protected and audited.

plan (etl/config/release.toml) -> cells (true counts, secure side) -> relations -> suppression and
LP audit -> estimates from published counts only -> release database and its output-check report.
"""
