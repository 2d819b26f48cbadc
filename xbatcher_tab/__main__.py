"""``python -m xbatcher_tab``: the ``xbatcher-tab`` command."""

import sys

from .cli import main

sys.exit(main())
