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
