"""UMAP beside PCA and t-SNE: offered when umap-learn is installed, run in a child process with progress,
cancelled by pressing again, cached. The child imports a stand-in (tests/ui/fake_umap.py) where these tests
drive the widgets: the real umap-learn compiles itself for tens of seconds and CI does not install it."""

import numpy as np
import pytest
from PySide6.QtCore import Qt

from cfexplorer.core.synthetic import planted_tastes
from cfexplorer.core.umap_layout import umap_available

from . import fake_umap
from .test_factor_space_class import open_and_train

FAKE = "tests.ui.fake_umap"
RUN_MS = 30_000


@pytest.fixture
def view(qtbot, window):
    ratings = planted_tastes(n_users=12, n_items=40, density=0.8, seed=0)
    view = open_and_train(qtbot, window, ratings, n_epochs=30)
    view.set_umap_module(FAKE)
    return view


def umap_entry(view):
    return view.projection.model().item(view.projection.findData("umap"))


def test_without_umap_learn_the_choice_is_disabled_and_says_how_to_install_it(window):
    view = window.factor_space
    view.set_umap_module("cfexplorer_no_such_umap")
    entry = umap_entry(view)
    assert not entry.isEnabled() and "pip install 'cfexplorer[umap]'" in entry.toolTip()
    view.set_umap_module(FAKE)
    assert umap_entry(view).isEnabled() and "pip install" not in umap_entry(view).toolTip()


def test_umap_runs_in_the_background_with_progress_then_is_cached(qtbot, view):
    seen = []
    view.layout_job.sig_progress.connect(lambda share, text: seen.append((share, view.status.text(),
                                                                        view.layout_button.text())))
    view.projection.setCurrentIndex(view.projection.findData("umap"))
    assert view.layout_job.running and view.layout_button.text().startswith("Cancel UMAP")
    assert "PC1" in view.plot.getAxis("bottom").labelText  # PCA meanwhile
    qtbot.waitUntil(lambda: not view.layout_job.running, timeout=RUN_MS)

    shares = [share for share, _, _ in seen]
    assert shares == sorted(shares) and shares[0] == 0.0 and shares[-1] == 1.0
    status, button = next((status, button) for share, status, button in seen if 0.4 < share < 0.8)
    assert "Computing UMAP of 40 points" in status and "epoch" in status and "of 200" in status
    assert button.startswith("Cancel UMAP ") and button.endswith("%")
    factors = view.embedding.items.factors
    np.testing.assert_allclose(view.coordinates("movie"), factors[:, :2] * fake_umap.SCALE)
    assert "UMAP 1" in view.plot.getAxis("bottom").labelText and view.layout_button.text() == "Recompute UMAP"
    assert "UMAP done" in view.status.text()
    view.select({"movie": [3]})  # the status line is written again: the note stays
    assert "UMAP done" in view.status.text()

    view.projection.setCurrentIndex(view.projection.findData("pca"))
    assert "PC1" in view.plot.getAxis("bottom").labelText and "UMAP done" not in view.status.text()
    view.projection.setCurrentIndex(view.projection.findData("umap"))
    assert not view.layout_job.running, "the cached layout is shown again, not computed again"
    np.testing.assert_allclose(view.coordinates("movie"), factors[:, :2] * fake_umap.SCALE)


def test_pressing_again_cancels_umap_and_once_more_starts_it_again(qtbot, view, monkeypatch):
    monkeypatch.setenv("FAKE_UMAP_EPOCH_S", "0.05")  # 10 s for the 200 epochs: time to press Cancel
    view.projection.setCurrentIndex(view.projection.findData("umap"))
    with qtbot.waitSignal(view.layout_job.sig_progress, timeout=RUN_MS,
                          check_params_cb=lambda share, text: share > 0.15):
        pass
    qtbot.mouseClick(view.layout_button, Qt.MouseButton.LeftButton)
    assert not view.layout_job.running and "UMAP cancelled" in view.status.text()
    assert view.layout_button.text() == "Recompute UMAP" and "PC1" in view.plot.getAxis("bottom").labelText
    view.select({"movie": [1]})  # no redraw starts it again behind the user's back
    assert not view.layout_job.running
    qtbot.mouseClick(view.layout_button, Qt.MouseButton.LeftButton)
    assert view.layout_job.running and view.layout_job.method == "umap"
    qtbot.mouseClick(view.layout_button, Qt.MouseButton.LeftButton)
    assert not view.layout_job.running


def test_choosing_umap_while_t_sne_computes_replaces_it(qtbot, view, monkeypatch):
    monkeypatch.setenv("FAKE_UMAP_EPOCH_S", "0")
    view.projection.setCurrentIndex(view.projection.findData("tsne"))
    assert view.layout_job.method == "tsne"
    view.projection.setCurrentIndex(view.projection.findData("umap"))
    assert view.layout_job.method == "umap" and view.layout_button.text().startswith("Cancel UMAP")
    qtbot.waitUntil(lambda: not view.layout_job.running, timeout=RUN_MS)
    assert "UMAP 1" in view.plot.getAxis("bottom").labelText


@pytest.mark.umap
@pytest.mark.skipif(not umap_available(), reason="umap-learn is not installed (pip install 'cfexplorer[umap]')")
def test_real_umap_keeps_two_tastes_apart_and_reports_its_epochs():
    """The real umap-learn, in this process (slow on first use: numba compiles it)."""
    from cfexplorer.core.umap_layout import umap_layout

    rng = np.random.default_rng(0)
    taste = np.repeat([0, 1], 30)
    factors = np.array([[4.0] * 6, [-4.0] * 6])[taste] + rng.normal(size=(60, 6))
    reports = []
    coordinates = umap_layout(factors, seed=0, progress=lambda share, text: reports.append((share, text)))
    shares = [share for share, _ in reports]
    assert shares == sorted(shares) and shares[-1] == 1.0 and any(text.startswith("epoch ") for _, text in reports)
    assert len(reports) > 10, "the epochs are reported, not only the stages"
    nearest = np.argsort(((coordinates[:, None] - coordinates[None]) ** 2).sum(-1), axis=1)[:, 1]
    assert np.all(taste[nearest] == taste)
    again = umap_layout(factors, seed=0)
    np.testing.assert_allclose(again, coordinates)
