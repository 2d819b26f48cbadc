"""Metadata, reads no values: argument checks and parameter rules, windows, plans,
time, coordinates, the globe, columns, seeds. Imports no other layer."""
