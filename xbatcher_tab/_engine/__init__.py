"""How rows are copied: the numpy reference kernels, the numba kernels, the engine
choice, options and runtime, the copier, feature arrays and finishing. Imports
``_core`` and ``_fit``."""
