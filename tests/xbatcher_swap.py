"""A pytest plugin (``-p tests.xbatcher_swap``): xbatcher's own tests with our
BatchGenerator in place of theirs. Importing this module changes nothing (the test
suite's doctest collection imports it); the swap happens when pytest loads it as a
plugin."""


def pytest_configure(config):
    import xbatcher
    import xbatcher.accessors
    import xbatcher.generators

    import xbatcher_tab

    xbatcher.BatchGenerator = xbatcher_tab.BatchGenerator
    xbatcher.generators.BatchGenerator = xbatcher_tab.BatchGenerator
    xbatcher.accessors.BatchGenerator = xbatcher_tab.BatchGenerator
    import os

    mark = os.environ.get("XBATCHER_TAB_SWAPPED")  # tells the test the swap happened
    if mark:
        with open(mark, "w") as out:
            out.write(xbatcher.BatchGenerator.__module__)
