"""The seed notebook (xbatcher demo, Nov 2021), run on xbatcher-tab.

Only two lines differ from the notebook: the import (``import xbatcher_tab as
xbatcher``) and the data, which is synthetic and notebook-shaped (time=60, lat=145,
lon=192, float32 ``tasmax``) because the notebook's zarr store is not reachable
offline. ``display`` is ``print``. Run it with ``python examples/notebook_port.py``.
"""

from __future__ import annotations

import xbatcher_tab as xbatcher
from xbatcher_tab import datasets

display = print


def main(ds=None) -> dict:
    """Run the notebook's cells; return the figures it prints, for the tests."""
    figures: dict = {}
    if ds is None:
        ds = datasets.tasmax()  # instead of xr.open_zarr(store, consolidated=True)
    ds.attrs = {}
    display(ds)

    # ## Batch generation
    n_timepoint_in_each_sample = 10
    bgen = xbatcher.BatchGenerator(
        ds=ds,
        input_dims={"time": n_timepoint_in_each_sample},
    )
    n_batch = 0
    for batch in bgen:  # noqa: B007 (the notebook uses the last batch after the loop)
        n_batch += 1
    print(f"{n_batch} batches")
    display(batch)
    figures["batches"] = n_batch
    expected_n_batch = len(ds.time) / n_timepoint_in_each_sample
    print(f"Expecting {expected_n_batch} batches, getting {n_batch} batches")
    expected_batch_size = len(ds.lat) * len(ds.lon)
    print(
        f"Expecting {expected_batch_size} samples per batch, "
        f"getting {len(batch.sample)} samples per batch"
    )
    figures["samples_per_batch"] = len(batch.sample)

    # ## Controlling the size/shape of batches
    n_timepoint_in_each_sample = 10
    n_timepoint_in_each_batch = 20
    bgen = xbatcher.BatchGenerator(
        ds=ds,
        input_dims={"time": n_timepoint_in_each_sample},
        batch_dims={"time": n_timepoint_in_each_batch},
        concat_input_dims=True,
    )
    n_batch = 0
    for batch in bgen:  # noqa: B007 (the notebook uses the last batch after the loop)
        n_batch += 1
    print(f"{n_batch} batches")
    display(batch)
    figures["concat_batches"] = n_batch

    # ## Last batch behavior
    n_timepoint_in_batch = 31
    bgen = xbatcher.BatchGenerator(ds=ds, input_dims={"time": n_timepoint_in_batch})
    last = []
    for batch in bgen:  # noqa: B007 (the notebook uses the last batch after the loop)
        print(f"last time point in ds is {ds.time[-1].values}")
        print(f"last time point in batch is {batch.time[-1].values}")
        last.append(batch.time[-1].values)
    display(batch)
    figures["remainder_batches"] = len(bgen)
    figures["last_time_in_batch"] = last[-1]

    # ## Overlapping inputs
    n_timepoint_in_each_sample = 10
    n_timepoint_in_each_batch = 20
    input_overlap = 9
    bgen = xbatcher.BatchGenerator(
        ds=ds,
        input_dims={"time": n_timepoint_in_each_sample},
        batch_dims={"time": n_timepoint_in_each_batch},
        concat_input_dims=True,
        input_overlap={"time": input_overlap},
    )
    n_batch = 0
    sizes = []
    for batch in bgen:  # noqa: B007 (the notebook uses the last batch after the loop)
        n_batch += 1
        sizes.append(len(batch.sample))
    print(f"{n_batch} batches")
    display(batch)
    figures["overlap_batches"] = n_batch
    figures["overlap_samples"] = sizes

    lat = -90
    lon = 0
    pixel = batch.sel(lat=lat, lon=lon)
    display(pixel)
    first = pixel.isel(input_batch=0).time
    second = pixel.isel(input_batch=1).time
    print(f"sample 1 goes from {first[0].values} to {first[-1].values}")
    print(f"sample 2 goes from {second[0].values} to {second[-1].values}")
    figures["pixel_samples"] = pixel.sizes["input_batch"]

    # ## Example applications
    bgen = xbatcher.BatchGenerator(
        ds=ds[["tasmax"]].isel(lat=slice(0, 18), lon=slice(0, 18), time=slice(0, 30)),
        input_dims={"lat": 9, "lon": 9, "time": 10},
        batch_dims={"lat": 18, "lon": 18, "time": 15},
        concat_input_dims=True,
        input_overlap={"lat": 8, "lon": 8, "time": 9},
    )
    shapes = []
    for i, batch in enumerate(bgen):
        print(f"batch {i}")
        batch = batch.transpose("input_batch", "lat_input", "lon_input", "time_input")
        features = batch.tasmax.isel(time_input=slice(0, 9))
        labels = batch.tasmax.isel(lat_input=5, lon_input=5, time_input=9)
        print("feature shape", features.shape)
        print("label shape", labels.shape)
        print("shape of lat of each sample", labels.coords["lat"].shape)
        print("")
    for i, batch in enumerate(bgen):
        print(f"batch {i}")
        batch = batch.transpose("input_batch", "lat_input", "lon_input", "time_input")
        features = batch.tasmax.isel(time_input=slice(0, 9))
        features = features.stack(features=["lat_input", "lon_input", "time_input"])
        labels = batch.tasmax.isel(lat_input=5, lon_input=5, time_input=9)
        print("feature shape", features.shape)
        print("label shape", labels.shape)
        print("shape of lat of each sample", labels.coords["lat"].shape, "\n")
        shapes.append(features.shape)
    figures["stacked_feature_shapes"] = shapes
    return figures


if __name__ == "__main__":
    main()
