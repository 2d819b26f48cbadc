"""Window index math against brute force."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from xbatcher_tab._core.plan import (
    sample_grid,
    slab_plan,
    window_count,
    window_starts,
)
from xbatcher_tab._core.window import WindowSpec
from xbatcher_tab._engine.kernels import contiguous_run, expanded_view, window_view
from xbatcher_tab._xbatcher.plan import arrange, xbatcher_plans


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


@given(st.lists(st.integers(1, 7), min_size=1, max_size=4), st.data())
def test_expanded_view_equals_window_view(shape, data):
    arr = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    if data.draw(st.booleans()):  # not C-contiguous: the plain view
        arr = np.asfortranarray(arr)
    axes = sorted(data.draw(st.sets(st.integers(0, len(shape) - 1), min_size=1)))
    sizes = [data.draw(st.integers(1, shape[a])) for a in axes]
    steps = [data.draw(st.integers(1, 4)) for _ in axes]
    view = expanded_view(arr, axes, sizes, steps)
    expected = window_view(arr, axes, sizes, steps)
    assert view.shape == expected.shape
    np.testing.assert_array_equal(view, expected)
    trailing = axes == list(range(len(shape) - len(axes), len(shape)))
    if len(axes) >= 2 and trailing and arr.flags.c_contiguous:
        # windows read in runs of (at least) their last two axes' cells
        cells = range(arr.ndim, view.ndim)
        assert contiguous_run(view, cells, sizes) >= sizes[-1] * sizes[-2]
        assert contiguous_run(view, cells, sizes) >= contiguous_run(expected, cells, sizes)
    else:
        assert np.shares_memory(view, arr) or not arr.size


def test_layout_merges_and_broadcasts():
    a = np.arange(6).reshape(2, 3)
    out = arrange(a, ("x", "y"), [("z", "y"), ("x",)], {"x": 2, "y": 3, "z": 2})
    expected = np.array([[a[x, y] for x in range(2)] for z in range(2) for y in range(3)])
    np.testing.assert_array_equal(out, expected)


@given(st.data())
def test_layout_equals_a_plain_copy(data):
    """Any transposition, broadcast and merging of labels: the values of a plain
    broadcast, transpose and reshape (broadcast labels filled by repetition)."""
    labels = ["a", "b", "c", "d"]
    sizes = {d: data.draw(st.integers(1, 4)) for d in labels}
    own = data.draw(st.lists(st.sampled_from(labels), min_size=1, max_size=4, unique=True))
    arr = np.arange(int(np.prod([sizes[d] for d in own]))).reshape([sizes[d] for d in own])
    flat = data.draw(st.permutations(labels))
    cuts = sorted(data.draw(st.sets(st.integers(1, len(flat) - 1))))
    target = [tuple(flat[i:j]) for i, j in zip([0, *cuts], [*cuts, len(flat)], strict=True)]
    got = arrange(arr, own, target, sizes)
    full = np.broadcast_to(
        arr.reshape(arr.shape + (1,) * (4 - len(own))).transpose(
            [(own + [d for d in labels if d not in own]).index(d) for d in flat]
        ),
        [sizes[d] for d in flat],
    )
    expected = np.array(full).reshape([int(np.prod([sizes[d] for d in g])) for g in target])
    np.testing.assert_array_equal(got, expected)


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


@given(
    st.integers(1, 30),  # length of the outermost dim
    st.integers(1, 6),  # window size along it (1: a sample dim)
    st.integers(0, 5),  # overlap
    st.integers(0, 3),  # lead
    st.integers(0, 4),  # inner samples per position
    st.data(),
)
def test_slab_plan_brute_force(length, size, overlap, lead, inner, data):
    size = min(size, length)
    overlap = min(overlap, size - 1)
    spec = WindowSpec(("t",), (size,), (overlap,), leads=(("t", lead),) if lead else ())
    grid = sample_grid(spec, {"t": length, "x": inner})
    chunks = []
    rest = length
    while rest:
        chunks.append(data.draw(st.integers(1, rest)))
        rest -= chunks[-1]
    chunking = data.draw(st.sampled_from([None, tuple(chunks)]))
    slabs = slab_plan(grid, chunking)

    stride = size - overlap
    # brute force: every window whose cells and label lie inside the data, by start
    starts = [s for s in range(0, length, stride) if s + size + lead <= length]
    edges = np.cumsum((0, *(chunking or (length,))))
    chunk_of = {s: int(np.searchsorted(edges, s, side="right")) - 1 for s in starts}
    assert grid.counts[0] == len(starts)
    # every position in exactly one slab, in order; ids follow positions
    assert [p for slab in slabs for p in slab.positions] == list(range(len(starts)))
    for slab in slabs:
        assert len(slab.positions) > 0
        assert slab.first_id == slab.positions.start * inner
        assert slab.n_samples == len(slab.positions) * inner
        window_starts_ = [starts[p] for p in slab.positions]
        # one chunk per slab: the chunk every window of the slab starts in
        assert len({chunk_of[s] for s in window_starts_}) == 1
        # the slab's cells are exactly what its samples read: windows and labels
        assert slab.cells.start == window_starts_[0]
        assert slab.cells.stop == window_starts_[-1] + size + lead <= length
    if chunking is None:
        assert len(slabs) == (1 if starts else 0)
    else:  # a chunk in which some window starts gives a slab
        assert len(slabs) == len(set(chunk_of.values()))


def test_window_spec_arithmetic():
    spec = WindowSpec(("lat", "time"), (3, 4), (1, 3), leads=(("time", 2), ("z", 1)))
    assert [spec.size(d) for d in ("lat", "time", "z", "x")] == [3, 4, 1, 1]
    assert [spec.stride(d) for d in ("lat", "time", "z", "x")] == [2, 1, 1, 1]
    assert [spec.anchor(d) for d in ("lat", "time", "z", "x")] == [1, 5, 1, 0]
    assert [spec.span(d) for d in ("lat", "time", "z", "x")] == [(-1, 1), (-5, 0), (-1, 0), (0, 0)]
    assert spec.count("time", 10) == 5  # starts 0..4: the label (start + 5) must fit
    assert spec.count("z", 3) == 2
