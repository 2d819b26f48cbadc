"""Sample weights: one weight per sample, the weight of its anchor's cell.

A tabularizer's ``weight`` is a DataArray over some of the sample dims, or
``"coslat"``: the cosine of the latitude, the area of a cell of a regular latitude-
longitude grid relative to one at the equator. A sample's weight depends only on its
anchor, so it is looked up from the coordinate frame of any rows (a table, a batch, a
shuffled batch): ``tab.sample_weight(coords)``.
"""

from ._core.geo import latitude_dim
from ._fit.weights import CosLat, sample_weight
from ._fit.weights import check_weight as check_weight

__all__ = ["CosLat", "latitude_dim", "sample_weight"]
