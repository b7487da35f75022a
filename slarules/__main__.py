import sys

from slarules.cli import main

sys.exit(main())
