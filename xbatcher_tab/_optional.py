"""Optional dependencies: imported where they are used, with the extra that installs them."""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["require"]


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
