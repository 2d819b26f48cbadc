"""The seed notebook's CNN: 9x9 lat-lon windows of the last 9 days, predicting the next
day at the window's center, trained with torch on CPU and put back on the map.

Windows come from ``xt.torch.WindowDataset`` (``shape="window"``: the 9 days as the
CNN's channels) through a shuffled, multi-worker ``DataLoader``, each batch gathered in
one call. Cells are centered on the last day's center value (``center="anchor"``),
which comes alongside the window: the network predicts the change from it. Scored on
the held-out days against persistence (tomorrow = today), then mapped with
``xt.predict``. Run: ``python examples/cnn_torch.py`` (about two minutes on 2 cores).
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader

import xbatcher_tab as xt
from xbatcher_tab.torch import WindowDataset

DAYS = SIZE = 9


class WindowCNN(torch.nn.Module):
    """Two 3x3 convolutions over the lat-lon window, the days as channels; predicts
    tomorrow's value at the center as the last day's value plus a change."""

    def __init__(self, days: int = DAYS, width: int = 32) -> None:
        super().__init__()
        self.features = torch.nn.Sequential(
            torch.nn.Conv2d(days, width, 3),
            torch.nn.ReLU(),
            torch.nn.Conv2d(width, width, 3),
            torch.nn.ReLU(),
            torch.nn.Flatten(),
        )
        self.head = torch.nn.Linear(width * (SIZE - 4) ** 2, 1)

    def forward(self, window: torch.Tensor, extras: torch.Tensor) -> torch.Tensor:
        change = self.head(self.features(window[:, 0]))  # (batch, days, lat, lon)
        return extras[:, :1] + change  # extras[:, 0]: the last day's center value


def main(
    time: int = 60,
    lat: int = 145,
    lon: int = 192,
    epochs: int = 2,
    workers: int = 2,
    verbose: bool = True,
) -> dict:
    torch.manual_seed(0)
    ds = xt.datasets.tasmax(time=time, lat=lat, lon=lon)
    split = time * 2 // 3
    train, test = ds.isel(time=slice(0, split)), ds.isel(time=slice(split, None))
    tab = xt.WindowTabularizer(
        input_dims={"time": DAYS, "lat": SIZE, "lon": SIZE},
        input_overlap={"time": DAYS - 1, "lat": SIZE - 1, "lon": SIZE - 1},
        target=xt.Target("tasmax", lead={"time": 1}),
        center="anchor",  # cells minus the last day's center; that value alongside
    ).fit(train)
    windows = WindowDataset(tab, train, shape="window")
    loader = DataLoader(windows, batch_size=256, shuffle=True, num_workers=workers)
    model = WindowCNN()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(epochs):
        total = n = 0.0
        for (window, extras), y in loader:
            loss = torch.nn.functional.mse_loss(model(window, extras)[:, 0], y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(y)
            n += len(y)
        if verbose:
            print(f"epoch {epoch + 1}: training RMSE {np.sqrt(total / n):.3f} K ({int(n):,})")

    pred = xt.predict(model, tab, test, shape="window")
    truth = test.tasmax
    scored = pred.sel(time=test.time).notnull()
    persistence = truth.shift(time=1)  # tomorrow = today
    result = {
        "rmse": float(xt.metrics.rmse(pred.where(scored), truth)),
        "rmse_persistence": float(xt.metrics.rmse(persistence.where(scored), truth)),
        "n_test": int(scored.sum()),
        "map": pred,
    }
    if verbose:
        print(
            f"CNN: RMSE {result['rmse']:.3f} K, persistence {result['rmse_persistence']:.3f} K "
            f"on {result['n_test']:,} held-out windows; the map reaches "
            f"{str(pred.time.values[-1])[:10]} (the day after the data)"
        )
    return result


if __name__ == "__main__":
    main()
