"""`python -m gilkit` is the `gilkit` command."""

import sys

from gilkit.cli import main

sys.exit(main())
