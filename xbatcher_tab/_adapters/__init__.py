"""Rows for models and loaders: models as functions of rows, samples by index, labelled
scoring. Imports ``_core``, ``_fit``, ``_engine`` and ``_table``."""
