"""The xbatcher-compatible ``BatchGenerator``'s plans and batch assembly. Imports
``_core`` and ``_engine``."""
