import os
import warnings

import pytest
from hypothesis import HealthCheck, settings

# CI=true: as many examples as `make test`'s 15-minute budget on 2 cores allows
# (the whole suite takes about 4-5 minutes with this profile; see the closing note of
# issue 9). Local runs use fewer, for a quick loop.
settings.register_profile(
    "ci",
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "dev",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "big",  # for hand runs hunting edge cases: HYPOTHESIS_PROFILE=big
    max_examples=1500,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


@pytest.fixture(autouse=True)
def _quiet_xarray_future_warnings():
    # xbatcher 0.4.0 (the test oracle) triggers xarray's FutureWarnings about concat
    # defaults; they say nothing about this package. The package's own deprecations stay
    # errors: its code, tests, examples and docs speak the current API (the older forms
    # are tested inside pytest.warns).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        warnings.filterwarnings(
            "error", message=".*deprecated since xbatcher-tab", category=FutureWarning
        )
        yield


@pytest.fixture(params=["numpy", "dask"])
def backend(request) -> str:
    """Run a test on numpy-backed and on dask-backed data (see support.with_backend)."""
    return request.param


def next_day_tab(input_dims=None, **options):
    """The tests' usual tabularizer (unfitted): stride-1 windows, 3 lat x 3 lon x 3 days
    unless ``input_dims`` says otherwise, with tomorrow's ``tasmax`` at the window's
    center as the label; ``options`` add or override parameters."""
    import xbatcher_tab as xt

    dims = input_dims or {"lat": 3, "lon": 3, "time": 3}
    args = dict(
        input_dims=dims,
        input_overlap={d: n - 1 for d, n in dims.items()},
        target=xt.Target("tasmax", lead={"time": 1}),
    )
    return xt.WindowTabularizer(**{**args, **options})


@pytest.fixture(scope="session")
def next_day():
    """The factory :func:`next_day_tab`: ``next_day(n_jobs=3)``, ``next_day(boundary=...)``."""
    return next_day_tab


def pytest_report_header(config) -> str:
    """Which engine copies the rows in this run (``XBATCHER_TAB_ENGINE`` sets it)."""
    from xbatcher_tab._engine.choice import resolve
    from xbatcher_tab._engine.options import get_option

    return f"xbatcher-tab engine: {resolve(get_option('engine'))}"
