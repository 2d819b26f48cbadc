"""Tables cut from data: ``Table``, slabs, batches, dask blocks, the estimator's
outputs, prefetch and progress. Imports ``_core``, ``_fit`` and ``_engine``."""
