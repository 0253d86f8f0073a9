"""The point under the mouse among hundreds of thousands: a k-d tree built once per set of coordinates, and
the scan over every point that answers the same where there is no tree (yet).

Measuring every point in pixels at each mouse move takes 0.2 ms for MovieLens 25M's 59,047 movies and 0.5 ms
with its 162,541 users too, the tree 0.1 ms; but building the tree takes 20 and 80 ms, a stall if the first
hover waited for it (the plot builds it on a worker thread and scans meanwhile). Distances that matter are in
screen pixels, and the view's pixels are not square in data units (nor stay the same while zooming), so the
tree holds the coordinates divided by their spread per axis (fixed while the points are), finds the candidates
in a box that holds the hover circle whatever the zoom, and measures those few in pixels."""

from __future__ import annotations

import numpy as np

from ..lazy import lazy_import

spatial = lazy_import("scipy.spatial")

FIRST_CANDIDATES = 16  # the tree's nearest points measured in pixels before the whole hover box is
# Fewer points than this are scanned at every hover (0.2 ms), never given a tree.
SCAN_BELOW = 50_000


def nearest_by_scan(coordinates: np.ndarray, x: float, y: float, pixel_size, radius_px: float) -> tuple[int, float]:
    """What :meth:`PointIndex.nearest` answers, from every point measured in pixels: (row, squared distance in
    pixels) of the nearest within ``radius_px`` of (x, y), ties to the lowest row, or (-1, inf)."""
    if not len(coordinates):
        return -1, np.inf
    squared = _squared_pixels(coordinates, x, y, np.abs(np.asarray(pixel_size, dtype=float)))
    squared[np.isnan(squared)] = np.inf  # a point without coordinates is never hovered
    row = int(np.argmin(squared))
    if squared[row] > radius_px**2:
        return -1, np.inf
    return row, float(squared[row])


def _squared_pixels(points: np.ndarray, x: float, y: float, per_pixel: np.ndarray) -> np.ndarray:
    """Each point's squared distance from (x, y) in pixels, ``per_pixel`` data units a pixel along x and y:
    the one measure of the scan and the tree, so that both answer alike to the last bit."""
    offsets = (points - (x, y)) / per_pixel
    return np.einsum("ij,ij->i", offsets, offsets)


class PointIndex:
    def __init__(self, coordinates: np.ndarray):
        coordinates = np.asarray(coordinates, dtype=float)
        self.coordinates = coordinates if coordinates.ndim == 2 else coordinates.reshape(-1, 2)  # kept as given:
        # the plot knows by identity whether its points are still the ones indexed
        self.rows = np.flatnonzero(np.isfinite(self.coordinates).all(axis=1))
        kept = self.coordinates[self.rows]
        spread = np.ptp(kept, axis=0) if len(kept) else np.ones(2)
        self.scale = np.where(spread > 0, spread, 1.0)
        self.tree = spatial.cKDTree(kept / self.scale) if len(kept) else None

    def __len__(self) -> int:
        return len(self.coordinates)

    def nearest(self, x: float, y: float, pixel_size, radius_px: float) -> tuple[int, float]:
        """(row, squared distance in pixels) of the point nearest to (x, y) within ``radius_px`` pixels, or
        (-1, inf). ``pixel_size``: data units per pixel along x and y. Ties go to the lowest row.

        The tree's nearest few (in its own units) are measured in pixels first: where points crowd (the middle
        of a projection at full view) the hover box held thousands, 13 ms a mouse move at 59,047 movies. A point
        left out is at least as far, in pixels, as the farthest fetched one's tree distance allows; when the best
        fetched point is not nearer than that bound, every point in the box is measured."""
        if self.tree is None:
            return -1, np.inf
        per_pixel = np.abs(np.asarray(pixel_size, dtype=float))
        # pixels per unit of the tree's coordinates, along the axis where a unit is fewest pixels
        fewest_pixels = float(np.min(self.scale / per_pixel))
        half_width = radius_px / fewest_pixels
        here = np.array([x, y]) / self.scale
        count = min(FIRST_CANDIDATES, self.tree.n)
        distances, found = (np.atleast_1d(answer) for answer in  # scalars when count is 1
                            self.tree.query(here, k=count, p=np.inf, distance_upper_bound=half_width))
        found = found[np.isfinite(distances)]
        if not len(found):
            return -1, np.inf
        row, squared = self._nearest_of(self.rows[found], x, y, per_pixel)
        if len(found) == count and count < self.tree.n:
            bound = fewest_pixels * float(distances[-1])
            if squared >= bound**2:  # one left out may be nearer, or as near with a lower row
                ball = self.tree.query_ball_point(here, half_width, p=np.inf)
                row, squared = self._nearest_of(self.rows[np.asarray(ball, dtype=np.intp)], x, y, per_pixel)
        if squared > radius_px**2:
            return -1, np.inf
        return row, squared

    def _nearest_of(self, rows: np.ndarray, x: float, y: float, per_pixel: np.ndarray) -> tuple[int, float]:
        squared = _squared_pixels(self.coordinates[rows], x, y, per_pixel)
        best = np.lexsort((rows, squared))[0]
        return int(rows[best]), float(squared[best])
