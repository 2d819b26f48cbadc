"""A pytest plugin: xbatcher's own tests with our BatchGenerator in place of theirs."""

import xbatcher
import xbatcher.accessors
import xbatcher.generators

import xbatcher_tab

xbatcher.BatchGenerator = xbatcher_tab.BatchGenerator
xbatcher.generators.BatchGenerator = xbatcher_tab.BatchGenerator
xbatcher.accessors.BatchGenerator = xbatcher_tab.BatchGenerator
