"""What ``fit`` learns: the layout (nothing run-time), moments, outlier bounds, the
selection rules and weights. Imports ``_core``; never the engine."""
