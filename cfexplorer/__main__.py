"""``python -m cfexplorer``: the same as the ``cfexplorer`` command."""

import sys

from .cli import main

sys.exit(main())
