"""Optional dependencies: imported where they are used, with the extra that installs
them named (:func:`require`), or left out quietly where they are a nicety
(:func:`installed`). Every optional import of the package goes through one of these."""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["installed", "require"]


def require(module: str, extra: str, user: str) -> ModuleType:
    """``module`` imported, or an ImportError saying that ``user`` needs it and which
    extra of the package installs it.

    Examples
    --------
    >>> require("json", "none", "this example").__name__
    'json'
    >>> require("no_such_module", "fast", "the compiled engine")
    Traceback (most recent call last):
    ...
    ImportError: the compiled engine needs no_such_module: pip install 'xbatcher-tab[fast]'
    """
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise ImportError(f"{user} needs {module}: pip install 'xbatcher-tab[{extra}]'") from err


def installed(module: str) -> ModuleType | None:
    """``module`` imported, or None when it is not installed (for what works without
    it: a progress bar, the compiled engine).

    Examples
    --------
    >>> installed("json").__name__, installed("no_such_module")
    ('json', None)
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        return None
