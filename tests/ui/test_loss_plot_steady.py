"""The loss plot while a run trains: its y axis moves in steps, a lone epoch is a dot, the next run's curves are
made while nothing trains."""

import numpy as np
import pytest
from PySide6.QtCore import Qt

from cfexplorer.core.mf import EpochRecord
from cfexplorer.ui.loss_plot import STEADY_FILL, STEADY_ROOM, LossPlot, steady_range

from .widgets import shown_alone

FINISH_MS = 60_000


def train_to_end(qtbot, panel, epochs: int):
    panel.epochs.setValue(epochs)
    with qtbot.waitSignal(panel.sig_run_ended, timeout=FINISH_MS):
        qtbot.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)


@pytest.mark.parametrize("shown, wanted, expected", [
    ((0.0, 10.0), (1.0, 9.0), [0.0, 10.0]),  # holds it, filled 80 %: stays
    ((0.0, 10.0), (2.0, 8.0), [0.0, 10.0]),  # filled 60 %: stays
    ((0.0, 10.0), (2.0, 7.0), [2.0 - 0.75, 7.0 + 0.75]),  # filled 50 %: fitted again, 15 % of 5 as room
    ((0.0, 10.0), (-1.0, 9.0), [-1.0 - 1.5, 9.0 + 1.5]),  # the data left below: fitted again
    ((0.0, 10.0), (9.0, 1.0), [0.0, 10.0]),  # either order
    ((0.0, 10.0), (4.0, 4.0), [4.0, 4.0]),  # one value: pyqtgraph's own handling of an empty span
])
def test_steady_range_moves_only_when_the_data_leave_or_shrink(shown, wanted, expected):
    assert STEADY_FILL == 0.6 and STEADY_ROOM == 0.15
    np.testing.assert_allclose(steady_range(shown, wanted), expected)


def falling_loss(epochs):
    """Records of a run whose J falls from 150 towards 55 and whose validation RMSE falls from 2.3 towards 0.8."""
    return [EpochRecord(epoch, 95 * 0.97 ** epoch + 50, 5.0, 95 * 0.97 ** epoch + 55,
                        validation={"rmse": 1.5 * 0.97 ** epoch + 0.8, "mae": 1.2 * 0.97 ** epoch + 0.6})
            for epoch in epochs]


def test_the_axes_hold_every_curve_and_move_far_less_often_than_the_curves(qtbot):
    loss_plot = shown_alone(qtbot, LossPlot(), 500, 400)
    moves = []
    loss_plot.validation_plot.getViewBox().sigYRangeChanged.connect(lambda _, y_range: moves.append(y_range))
    loss_plot.start_run({}, planned_epochs=200)
    updates = 0
    for first in range(0, 201, 5):  # 41 updates of 5 epochs, each painted as the window paints it
        loss_plot.add_records(falling_loss(range(first, min(first + 5, 201))))
        loss_plot.grab()
        updates += 1
        for plot in (loss_plot.cost_plot, loss_plot.validation_plot):
            low, high = plot.viewRange()[1]
            values = np.concatenate([curve.yData for curve in loss_plot._curves[-1].values()
                                     if curve in plot.listDataItems()])
            assert low <= values.min() and values.max() <= high  # every point is inside the axis, at every update
            assert values.max() - values.min() >= STEADY_FILL * (high - low) * 0.99  # and fills most of it
    # the lowest RMSE falls at every update: pyqtgraph's own auto range moved the axis each time
    assert 2 <= len(moves) <= updates / 3


def test_an_axis_the_user_zoomed_stays_where_the_user_put_it(qtbot, window):
    panel = window.training_panel
    plot = panel.loss_plot.cost_plot
    plot.setYRange(100.0, 200.0, padding=0)  # as a mouse zoom does: auto range off
    train_to_end(qtbot, panel, 30)
    np.testing.assert_allclose(plot.viewRange()[1], [100.0, 200.0])


def test_a_lone_epoch_is_a_dot_in_its_curve_colour_and_a_line_after(qtbot, window):
    panel = window.training_panel
    loss_plot = panel.loss_plot
    train_to_end(qtbot, panel, 3)
    history = panel.model.history_
    loss_plot.start_run({}, planned_epochs=3)  # the same records again, as a run's first two updates bring them
    loss_plot.add_records(history[:1])
    curves = loss_plot._curves[-1]
    for key in ("total", "data", "reg"):
        assert curves[key].opts["symbol"] == "o"
        assert curves[key].opts["symbolBrush"] == curves[key].opts["pen"].color()
    loss_plot.add_records(history[1:2])
    assert all(curve.opts["symbol"] is None for curve in curves.values())
    assert list(loss_plot.curve_data("total")[0]) == [0, 1]


def test_the_next_runs_curves_are_made_after_a_run_ends_and_used_by_the_next_train(qtbot, window):
    panel = window.training_panel
    loss_plot = panel.loss_plot
    train_to_end(qtbot, panel, 20)
    qtbot.waitUntil(lambda: loss_plot._spare_curves is not None, timeout=5000)
    made_ahead = loss_plot._spare_curves
    # on the plots before the run, out of sight and out of the axes' range (added at Train, they cost 3 ms more)
    assert all(curve in loss_plot._plot_of(key).listDataItems() and not curve.isVisible()
               for key, curve in made_ahead.items())
    view = loss_plot.cost_plot.getViewBox()
    assert view.childrenBounds() == view.childrenBounds(items=[item for item in view.addedItems if item.isVisible()])
    train_to_end(qtbot, panel, 20)
    assert loss_plot._curves[-1] is made_ahead
    assert all(curve.isVisible() for key, curve in made_ahead.items() if key in ("total", "data", "reg"))
    x, y = loss_plot.curve_data("total")
    assert list(x) == list(range(21)) and np.all(np.isfinite(y))
    assert made_ahead["total"] in loss_plot.cost_plot.listDataItems()
    assert made_ahead["validation"] in loss_plot.validation_plot.listDataItems()


@pytest.mark.parametrize("cost, metric", [(12345.678, 0.9123), (0.5, 12345.678)])
def test_the_cost_and_validation_plots_show_the_same_epochs_whatever_their_numbers(qtbot, window, cost, metric):
    """Linked x ranges line up by screen position: with a cost of 12,345 above an RMSE of 0.9 the left axes
    differed by 19 px and the validation plot's epochs started 10 before or after the cost plot's (a test
    saw the validation plot begin at epoch 13 of a run, the first epochs out of sight)."""
    loss_plot = window.training_panel.loss_plot
    window.curves_dock.raise_()
    loss_plot.start_run({}, ("rmse", "mae"), planned_epochs=400)
    for epoch in range(4):
        record = EpochRecord(epoch, cost / (epoch + 1), cost / 10, 1.1 * cost / (epoch + 1))
        record.validation.update({"rmse": metric, "mae": metric / 2})
        loss_plot.add_records([record])
        qtbot.wait(10)
    assert loss_plot.validation_shown
    cost_view, validation_view = loss_plot.cost_plot.vb, loss_plot.validation_plot.vb
    assert cost_view.sceneBoundingRect().left() == pytest.approx(validation_view.sceneBoundingRect().left())
    np.testing.assert_allclose(loss_plot.cost_plot.viewRange()[0], loss_plot.validation_plot.viewRange()[0],
                               atol=1e-6)
    low, high = loss_plot.validation_plot.viewRange()[0]
    assert low <= 0 and 400 <= high < 420  # epoch 0 in sight in both


def test_curves_behind_the_factor_space_are_set_when_their_tab_is_clicked(qtbot, window):
    from .widgets import click_dock_tab

    panel, loss_plot = window.training_panel, window.training_panel.loss_plot
    click_dock_tab(qtbot, window, "Factor space")  # the loss curves behind it
    train_to_end(qtbot, panel, 300)
    run, total = loss_plot.current, loss_plot._curves[-1]["total"]
    assert len(run.epochs) == 301  # every epoch recorded...
    assert total.xData is None or len(total.xData) < 301  # ...but not drawn while it could not be seen
    click_dock_tab(qtbot, window, "Loss curves")
    np.testing.assert_array_equal(total.xData, np.arange(301))
    np.testing.assert_allclose(total.yData, run.total)
    np.testing.assert_array_equal(total.getData()[0], np.arange(301))  # drawn as well: every point, none dropped
    # a run ended behind the tab and the next one started there: the first keeps all its epochs as an earlier run
    click_dock_tab(qtbot, window, "Factor space")
    train_to_end(qtbot, panel, 300)
    train_to_end(qtbot, panel, 300)
    click_dock_tab(qtbot, window, "Loss curves")
    assert [len(curves["total"].xData) for curves in loss_plot._curves[-3:]] == [301, 301, 301]


def test_exporting_or_reading_curves_kept_behind_a_tab_gives_every_epoch(qtbot, window, tmp_path):
    from PySide6.QtGui import QImage

    from .widgets import click_dock_tab

    panel, loss_plot = window.training_panel, window.training_panel.loss_plot
    click_dock_tab(qtbot, window, "Factor space")
    train_to_end(qtbot, panel, 300)
    total = loss_plot._curves[-1]["total"]
    assert total.xData is None or len(total.xData) < 301  # still behind
    panel.export_curves(str(tmp_path / "curves.png"))  # what Export loss curves… does with a .png name
    np.testing.assert_array_equal(total.xData, np.arange(301))
    assert not QImage(str(tmp_path / "curves.png")).isNull()
    train_to_end(qtbot, panel, 200)  # the next run, behind the tab as well
    epochs, values = loss_plot.curve_data("total")
    np.testing.assert_array_equal(epochs, np.arange(201))
    np.testing.assert_allclose(values, loss_plot.current.total)
    assert not loss_plot.in_view  # read without bringing the tab to the front


def test_earlier_runs_are_measured_once_a_run_and_the_axes_still_hold_every_curve(qtbot):
    loss_plot = shown_alone(qtbot, LossPlot(), 500, 400)

    def records(scale, epochs):
        return [EpochRecord(epoch, scale * 100 / (epoch + 1), 1.0, scale * 100 / (epoch + 1) + 1) for epoch in epochs]

    for scale in (3.0, 1.0):  # two earlier runs, the first the highest
        loss_plot.start_run({"scale": scale}, planned_epochs=100)
        loss_plot.add_records(records(scale, range(101)))
        loss_plot.grab()
    earlier_total = loss_plot._curves[0]["total"]
    asked = []
    measure = earlier_total.dataBounds
    earlier_total.dataBounds = lambda *args, **kwargs: asked.append(args) or measure(*args, **kwargs)
    loss_plot.start_run({"scale": 0.2}, planned_epochs=100)
    for first in range(0, 101, 5):  # 21 updates, each painted
        loss_plot.add_records(records(0.2, range(first, min(first + 5, 101))))
        loss_plot.grab()
    assert 0 < len(asked) <= 4  # its x and y bounds for the run's first paint, not at each of its updates
    low, high = loss_plot.cost_plot.viewRange()[1]
    shown = np.concatenate([curves[term].yData for curves in loss_plot._curves for term in ("total", "data", "reg")])
    assert low <= shown.min() and shown.max() <= high  # the earlier runs' 301 and the current run's 1.2 alike
    # log y from the plot's own menu (Plot Options ▸ Transforms), not through LossPlot: the earlier curves'
    # bounds change units, and they say so
    loss_plot.cost_plot.ctrl.logYCheck.setChecked(True)
    loss_plot.grab()
    low, high = loss_plot.cost_plot.viewRange()[1]
    assert low <= np.log10(shown.min()) and np.log10(shown.max()) <= high < 2 * np.log10(shown.max())
    loss_plot.cost_plot.ctrl.logYCheck.setChecked(False)
    loss_plot.grab()
    # an earlier curve whose data change (as the menu's other transforms change them) is measured again
    earlier_total.setData(earlier_total.xData, 10 * earlier_total.yData)
    loss_plot.grab()
    assert loss_plot.cost_plot.viewRange()[1][1] >= 10 * shown.max()
