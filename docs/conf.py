"""Sphinx configuration: Markdown pages (MyST) plus the API from the docstrings."""

import xbatcher_tab

project = "xbatcher-tab"
author = "the xbatcher-tab developers"
release = version = xbatcher_tab.__version__
extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.autosummary",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build"]
napoleon_numpy_docstring = True
napoleon_google_docstring = False
napoleon_use_rtype = False
autodoc_member_order = "bysource"
autodoc_typehints = "none"
autodoc_default_options = {"members": True, "show-inheritance": False}
myst_heading_anchors = 3
html_theme = "alabaster"
html_title = "xbatcher-tab"
suppress_warnings = ["myst.xref_missing"]
