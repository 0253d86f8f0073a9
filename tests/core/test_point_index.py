"""The spatial index the factor plot's hover asks: the same answer as measuring every point in pixels."""

import numpy as np
import pytest

from cfexplorer.core import point_index
from cfexplorer.core.point_index import PointIndex, nearest_by_scan


def brute_force(xy, x, y, pixel, radius):
    squared = ((xy[:, 0] - x) / pixel[0]) ** 2 + ((xy[:, 1] - y) / pixel[1]) ** 2
    squared[~np.isfinite(squared)] = np.inf
    row = int(np.argmin(squared))  # the lowest row among ties
    return (row, squared[row]) if squared[row] <= radius**2 else (-1, np.inf)


@pytest.mark.parametrize("first_candidates", [1, 3, 16, 100_000])  # the box measured whole almost always .. never
@pytest.mark.parametrize("pixel", [(0.01, 0.01), (0.002, 0.05), (0.3, -0.001), (5.0, 5.0)])
def test_nearest_within_the_radius_is_what_measuring_every_point_finds(pixel, first_candidates, monkeypatch):
    monkeypatch.setattr(point_index, "FIRST_CANDIDATES", first_candidates)
    rng = np.random.default_rng(0)
    xy = np.vstack([rng.normal(size=(3000, 2)) * (3, 0.5), np.round(rng.normal(size=(200, 2)), 1)])  # ties too
    xy[7] = np.nan  # a point without coordinates is never hovered
    index = PointIndex(xy)
    queries = np.vstack([xy[rng.integers(0, len(xy), 150)] + rng.normal(scale=0.01, size=(150, 2)),
                         rng.uniform(-8, 8, size=(150, 2))])
    for x, y in queries:
        row, squared = index.nearest(x, y, pixel, 10)
        expected = brute_force(xy, x, y, np.abs(pixel), 10)
        assert row == expected[0] and np.isclose(squared, expected[1]) or (row == expected[0] == -1)


def test_empty_and_single_points():
    assert PointIndex(np.zeros((0, 2))).nearest(0, 0, (1, 1), 10) == (-1, np.inf)
    assert PointIndex(np.array([[1.0, 1.0]])).nearest(1.0, 1.05, (0.01, 0.01), 10) == (0, pytest.approx(25.0))
    assert PointIndex(np.array([[1.0, 1.0]])).nearest(1.0, 1.2, (0.01, 0.01), 10)[0] == -1


@pytest.mark.parametrize("pixel", [(0.01, 0.01), (0.002, 0.05), (0.3, -0.001), (5.0, 5.0)])
def test_the_scan_answers_what_the_tree_answers(pixel):
    """The scan the plot hovers with while there is no tree (too few points, or one still being built)."""
    rng = np.random.default_rng(1)
    xy = np.vstack([rng.normal(size=(3000, 2)) * (3, 0.5), np.round(rng.normal(size=(200, 2)), 1)])  # ties too
    xy[[7, 9]] = np.nan, np.inf
    index = PointIndex(xy)
    queries = np.vstack([xy[rng.integers(10, len(xy), 150)] + rng.normal(scale=0.01, size=(150, 2)),
                         rng.uniform(-8, 8, size=(150, 2))])
    found = 0
    for x, y in queries:
        row, squared = nearest_by_scan(xy, x, y, pixel, 10)
        expected = index.nearest(x, y, pixel, 10)
        assert row == expected[0] and (row == -1 or squared == pytest.approx(expected[1], rel=1e-12))
        found += row >= 0
    assert found > 0 and nearest_by_scan(xy, 1e6, 1e6, pixel, 10) == (-1, np.inf)
    assert nearest_by_scan(np.zeros((0, 2)), 0, 0, (1, 1), 10) == (-1, np.inf)
    assert nearest_by_scan(np.full((3, 2), np.nan), 0, 0, (1, 1), 10) == (-1, np.inf)
