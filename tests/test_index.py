"""Window index math against brute force."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from xbatcher_tab._gather import layout, window_view
from xbatcher_tab._index import window_count, window_starts, xbatcher_plans
from xbatcher_tab._spec import WindowSpec


@given(st.integers(0, 40), st.integers(1, 12), st.integers(1, 12))
def test_window_starts_brute_force(length, size, stride):
    brute = [s for s in range(0, max(length, 1), stride) if s + size <= length]
    assert window_starts(length, size, stride).tolist() == brute
    assert window_count(length, size, stride) == len(brute)


@given(st.lists(st.integers(1, 6), min_size=1, max_size=3), st.data())
def test_window_view_brute_force(shape, data):
    arr = np.arange(int(np.prod(shape))).reshape(shape)
    axes = sorted(data.draw(st.sets(st.integers(0, len(shape) - 1), min_size=1)))
    sizes = [data.draw(st.integers(1, shape[a])) for a in axes]
    strides = [data.draw(st.integers(1, 4)) for _ in axes]
    view = window_view(arr, axes, sizes, strides)
    counts = [window_count(shape[a], s, k) for a, s, k in zip(axes, sizes, strides, strict=True)]
    assert view.shape == tuple(
        counts[axes.index(i)] if i in axes else n for i, n in enumerate(shape)
    ) + tuple(sizes)
    for idx in itertools.product(*(range(n) for n in view.shape[: arr.ndim])):
        src = tuple(
            slice(i * strides[axes.index(ax)], i * strides[axes.index(ax)] + sizes[axes.index(ax)])
            if ax in axes
            else i
            for ax, i in enumerate(idx)
        )
        window = arr[src]  # remaining dims are the windowed ones, in axis order
        np.testing.assert_array_equal(view[idx], window)


def test_layout_merges_and_broadcasts():
    a = np.arange(6).reshape(2, 3)
    out = layout(a, ("x", "y"), [("z", "y"), ("x",)], {"x": 2, "y": 3, "z": 2})
    expected = np.array([[a[x, y] for x in range(2)] for z in range(2) for y in range(3)])
    np.testing.assert_array_equal(out, expected)


@given(
    st.integers(1, 30),
    st.integers(1, 10),
    st.integers(0, 9),
    st.integers(1, 30),
    st.booleans(),
)
def test_plans_cover_every_window_once(length, size, overlap, batch, concat):
    size = min(size, length)
    overlap = min(overlap, size - 1)
    batch = min(batch, length)
    spec = WindowSpec(("t",), (size,), (overlap,))
    plans = xbatcher_plans({"t": length}, spec, {"t": batch}, concat)
    stride = size - overlap
    windows = [i for p in plans for i in p.windows[0]]
    assert windows == sorted(set(windows))
    n = window_count(length, size, stride)
    if not concat:
        assert windows == list(range(n))
    else:
        per_batch = -(-batch // stride)
        kept = [i for i in range(n) if i // per_batch < length // batch]
        assert windows == kept
    for p in plans:
        sel = p.selector()["t"]
        assert sel.start == p.windows[0].start * stride
        assert sel.stop == (p.windows[0].stop - 1) * stride + size <= length


def test_spec_counts():
    spec = WindowSpec(("lat", "lon", "time"), (9, 9, 10), (8, 8, 9))
    assert spec.strides == (1, 1, 1)
    assert spec.counts({"lat": 18, "lon": 18, "time": 30}) == (10, 10, 21)
