"""``python -m bench``: the same as ``python -m etl bench`` (see bench/README.md)."""
import argparse
import sys

from bench import options
from bench.run import main

if __name__ == "__main__":
    parser = options.add_options(argparse.ArgumentParser(prog="python -m bench", description=main.__doc__))
    sys.exit(main(parser.parse_args()))
