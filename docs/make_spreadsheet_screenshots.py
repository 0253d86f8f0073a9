"""The README's spreadsheet pictures: the factor tables with a factor typed over, and the workbook walk-through's:
the stand-in for fast.ai's collab_filter.xlsx (rebuilt by
tests/io/workbooks.py; the real one is not shipped) opened in the window, the preview a corner without a
long table leaves open, and the dotprod sheet's model trained with k = 5.

    QT_QPA_PLATFORM=offscreen python docs/make_spreadsheet_screenshots.py
"""

import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from cfexplorer.app import MainWindow, make_application  # noqa: E402
from cfexplorer.ui.table_preview import TablePreviewDialog  # noqa: E402
from tests.io.workbooks import write_collab_filter  # noqa: E402


def main():
    images = HERE / "images"
    folder = Path(tempfile.mkdtemp())
    app = make_application([])
    settings = QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings)
    window.resize(1400, 860)
    window.show()
    app.processEvents()

    corner_only = folder / "collab_filter.xlsx"  # no long table of the same ratings: the corner is a question
    write_collab_filter(corner_only, long_sheets=False)

    def picture_the_preview():
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, TablePreviewDialog):
            QTimer.singleShot(20, picture_the_preview)
            return
        dialog.rows_are_users.click()
        app.processEvents()
        dialog.grab().save(str(images / "workbook-preview.png"))
        dialog.accept()

    os.environ.pop("CFEXPLORER_NO_DIALOGS", None)
    QTimer.singleShot(0, picture_the_preview)
    window.open_file(corner_only, confirm=False)

    (folder / "full").mkdir()
    made = write_collab_filter(folder / "full" / "collab_filter.xlsx")
    window.open_file(folder / "full" / "collab_filter.xlsx", confirm=False)
    panel = window.training_panel
    panel.model_kind.setCurrentIndex(panel.model_kind.findData("mf"))
    panel.factors.setValue(5)
    panel.reg.setValue(0)
    panel.validation.setValue(0)
    panel.optimizer.setCurrentIndex(panel.optimizer.findData("als"))
    for box in (panel.mean_normalization, panel.global_mean, panel.user_bias, panel.item_bias):
        box.setChecked(False)
    panel.epochs.setValue(100)
    window.train_and_wait(120)
    window.grid.setCurrentIndex(window.proxy.index(1, 0))
    app.processEvents()
    window.grab().save(str(images / "workbook-trained.png"))
    print(f"the sheet's RMSE {made.rmse:.4f}; the app's after 100 ALS epochs "
          f"{panel.model.history_[-1].train['rmse']:.4f}")
    window.undo_stack.setClean()

    window.open_preset("course")  # the factor tables: "what if this movie were more romantic?"
    window.train_and_wait(120)
    window.act_factor_tables.setChecked(True)  # beside the grid
    tables = window.factor_tables
    romance = list(window.table.ratings.item_titles()).index("Romance forever")
    bob = list(window.table.ratings.user_labels).index("Bob")
    window.grid.setCurrentIndex(window.proxy.mapFromSource(window.table.index(*window.table.position(bob, romance))))
    tables.movies.setData(tables.movies.index(romance, 0), "3")  # what typing 3 over its f1 does
    app.processEvents()
    window.grab().save(str(images / "factor-tables.png"))
    window.undo_stack.setClean()
    window.close()


if __name__ == "__main__":
    main()
