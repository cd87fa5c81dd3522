"""Words of the release identity (footer, CSV headers, area profile), in English and Danish (merged
into ``atlas.i18n.TEXT``)."""
from __future__ import annotations

TEXT = {
    "release_word": ("Release", "Udgave"),
    "release_identity": ("Release {id} · data {first}–{last}, last complete year {complete} · source {source}",
                         "Udgave {id} · data {first}–{last}, sidste fuldstændige år {complete} · kilde {source}"),
    "api_address": ("API", "API"),
    "api_menu_head": ("The same figures for programs (open-data API):", "De samme tal til programmer (åbent API):"),
    "api_menu_help": ("JSON; add &format=csv for CSV. The address changes with the view on screen.",
                      "JSON; tilføj &format=csv for CSV. Adressen følger visningen på skærmen."),
    "api_menu_label": ("API address of this chart's figures", "API-adresse for figurens tal"),
    "release_none": ("Not a numbered release (secure database or a release without an edition)",
                     "Ikke en nummereret udgave (sikker database eller en udgave uden nummer)"),
}
