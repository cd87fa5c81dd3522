"""Writes tests/data/sks_synthetic.txt: a SYNTHETIC file in the fixed-width layout of the SKS download
(SKScomplete.txt), for the tests of `python -m etl codes check`. Not the real classification: the
codes are a handful, the dates are invented, and one code (UXRE99) does not exist in SKS.

    .venv/bin/python tests/data/make_sks_synthetic.py
"""
from pathlib import Path

# record type, code, valid from, changed, valid to ("" = open), Danish text
ROWS = [
    ("pro", "UX", "19960101", "", "", "Radiologiske procedurer"),
    ("pro", "UXR", "19960101", "", "", "Røntgenundersøgelser"),
    ("pro", "UXRC", "19960101", "", "", "Røntgenundersøgelser af thorax"),
    ("pro", "UXRC00", "19960101", "", "", "Røntgenundersøgelse af thorax"),
    ("pro", "UXRE", "19960101", "", "", "Røntgenundersøgelser af columna"),
    ("pro", "UXRE10", "19960101", "", "", "Røntgenundersøgelse af columna cervicalis"),
    ("pro", "UXRE30", "19960101", "20050301", "", "Røntgenundersøgelse af columna lumbalis"),
    ("pro", "UXRE35", "19960101", "", "", "Lumbal myelografi"),
    ("pro", "UXRE99", "19960101", "", "20151231", "SYNTETISK udgået kode (findes ikke i SKS)"),
    ("pro", "UXM", "19960101", "", "", "MR-skanninger"),
    ("pro", "UXMC", "19960101", "", "", "MR-skanninger af thorax"),
    ("pro", "UXMC40", "19960101", "", "", "MR-skanning af mamma"),
    ("pro", "UXME", "19960101", "", "", "MR-skanninger af columna"),
    ("pro", "UXME30", "19960101", "", "", "MR-skanning af columna lumbalis"),
    ("pro", "UXME30A", "20100101", "", "", "MR-skanning af plexus lumbo-sacralis"),
    ("pro", "UXC", "19960101", "", "", "CT-skanninger"),
    ("pro", "UXCE", "19960101", "", "", "CT-skanninger af columna"),
    ("pro", "UXCE30", "19960101", "", "", "CT-skanning af columna lumbalis"),
    ("dia", "DM54", "19940101", "", "", "Rygsmerter"),
    ("dia", "DM545", "19940101", "", "", "Lændesmerter UNS"),
    ("dia", "DM51", "19940101", "", "", "Sygdomme i lumbale og torakale båndskiver"),
    ("dia", "DM480", "19940101", "", "", "Spinalstenose"),
    ("dia", "DC40", "19940101", "", "", "Kræft i knogler og ledbrusk i ekstremiteter"),
    ("dia", "DC41", "19940101", "", "", "Kræft i knogler og ledbrusk med andre og ikke specificerede lokalisationer"),
    ("dia", "DC795", "19940101", "", "", "Fjernmetastase i knogle eller knoglemarven"),
    ("dia", "DC90", "19940101", "", "", "Maligne plasmacelle neoplasier"),
    ("dia", "DS32", "19940101", "", "", "Fraktur af lumbale rygsøjle og bækkenet"),
    ("dia", "DT08", "19940101", "", "", "Fraktur af rygsøjlen uden angivelse af niveau"),
    ("dia", "DM484", "19940101", "", "", "Spontanfraktur af ryghvirvel"),
    ("dia", "DM462", "19940101", "", "", "Osteomyelitis i ryghvirvel"),
    ("dia", "DM463", "19940101", "", "", "Infektiøs diskitis i rygsøjlen"),
    ("dia", "DM465", "19940101", "", "", "Anden form for infektiøs spondylopati"),
    ("dia", "DG834", "19940101", "", "", "Cauda equina-syndrom"),
    ("pro", "KABC", "19960101", "", "", "Dekompressioner af rygmarv og nerverødder"),
    ("pro", "KABC16", "19960101", "", "", "Mikrokirurgisk fjernelse af lumbal diskusprolaps"),
    ("pro", "KNAG", "19960101", "", "", "Ledresektioner, artroplastikker og artrodeser i columnas led"),
]


def record(rtype: str, code: str, start: str, changed: str, end: str, text: str) -> bytes:
    line = f"{rtype:<3}{code:<20}{start:<8}{changed:<8}{end:<8}{text:<120}" + " " * 20 + "1"
    return line.encode("cp1252")


def main() -> None:
    out = Path(__file__).with_name("sks_synthetic.txt")
    out.write_bytes(b"\r\n".join(record(*r) for r in ROWS) + b"\r\n")
    print(f"wrote {out} ({len(ROWS)} records)")


if __name__ == "__main__":
    main()
