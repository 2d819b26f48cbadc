"""The seed notebook runs on xbatcher-tab with the figures it printed on the real data."""

from __future__ import annotations

import numpy as np
import pytest

from .support import load_example


@pytest.fixture(scope="module")
def figures():
    return load_example("notebook_port").main()


def test_batch_counts(figures):
    assert figures["batches"] == 6
    assert figures["samples_per_batch"] == 145 * 192
    assert figures["concat_batches"] == 3
    assert figures["remainder_batches"] == 1
    assert figures["overlap_batches"] == 3


def test_remainder_is_dropped(figures):
    assert figures["last_time_in_batch"] == np.datetime64("1850-01-31T12:00")


def test_overlap_crosses_batch_edges_as_in_xbatcher(figures):
    assert figures["overlap_samples"] == [556800, 556800, 306240]
    assert figures["pixel_samples"] == 11


def test_stacked_feature_shapes(figures):
    assert figures["stacked_feature_shapes"] == [(1500, 729), (600, 729)]
