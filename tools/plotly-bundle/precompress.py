"""Write FILE.br and FILE.zst beside FILE, compressed once at the highest levels (brotli 11, zstd 19):
too slow to do per request, so the app serves these when the browser accepts them (atlas/static.py)."""
import sys
from pathlib import Path

import brotli
from flask_compress.flask_compress import compression  # zstd as flask-compress uses it

path = Path(sys.argv[1])
data = path.read_bytes()
Path(f"{path}.br").write_bytes(brotli.compress(data, quality=11))
Path(f"{path}.zst").write_bytes(compression.zstd.compress(data, 19))
print(f"{path}: {len(data):,} bytes; brotli {Path(f'{path}.br').stat().st_size:,}; zstd {Path(f'{path}.zst').stat().st_size:,}")
