"""``python -m xbatcher_tab``: the ``xbatcher-tab`` command."""

from .cli import run

run()
