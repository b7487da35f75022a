"""Start the slarules server: `python server.py` (same as `slarules serve`)."""

import sys

from slarules.cli import main

if __name__ == "__main__":
    sys.exit(main(["serve", *sys.argv[1:]]))
