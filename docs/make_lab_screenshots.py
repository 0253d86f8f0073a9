"""Regenerates the README's pictures of the course lab walk-through (offscreen, no screen needed).

Needs the lab's files (X, W, b and the ratings as triplets), which the project does not ship:
    python docs/make_lab_screenshots.py LAB_FOLDER MOVIES_CSV
LAB_FOLDER holds small_movies_X.csv, small_movies_W.csv, small_movies_b.csv and
small_movies_Y_R_reconstructed_triplets.csv; MOVIES_CSV is MovieLens latest-small's movies.csv (titles).
The window is driven as a student would: open, Training ▸ Load Parameters…, the settings, Train, a new user.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, QSettings, QTimer  # noqa: E402

from cfexplorer.app import MainWindow, make_application  # noqa: E402
from cfexplorer.io.presets import COURSE_LAB_TRAINING  # noqa: E402

IMAGES = Path(__file__).resolve().parent / "images"
SIZE = (1400, 860)
# The new user of the lab ("my_ratings"), by title.
NEW_USER_RATINGS = {
    "Toy Story 3 (2010)": 5, "Persuasion (2007)": 2, "Lord of the Rings: The Return of the King, The (2003)": 5,
    "Shrek (2001)": 5, "Inception (2010)": 3, "Incredibles, The (2004)": 5,
    "Amelie (Fabuleux destin d'Amélie Poulain, Le) (2001)": 2,
    "Harry Potter and the Sorcerer's Stone (a.k.a. Harry Potter and the Philosopher's Stone) (2001)": 5,
    "Harry Potter and the Chamber of Secrets (2002)": 5, "Eternal Sunshine of the Spotless Mind (2004)": 3,
    "Louis Theroux: Law & Disorder (2008)": 1, "Nothing to Declare (Rien à déclarer) (2010)": 1,
    "Pirates of the Caribbean: The Curse of the Black Pearl (2003)": 5,
}


def wait(ms: int):
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def wait_for_run(window):
    panel = window.training_panel
    wait(100)
    while panel.controller.is_active:
        wait(100)
    wait(300)


def new_window(folder: Path) -> MainWindow:
    window = MainWindow(settings=QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat))
    window.resize(*SIZE)
    window.show()
    return window


def lab_cost(lab: Path, folder: Path):
    """The lab's first 5 movies × 4 users, its X, W, b with 3 features: J = 28.09 at λ = 1.5."""
    import numpy as np

    triplets = np.loadtxt(lab / "small_movies_Y_R_reconstructed_triplets.csv", delimiter=",", skiprows=1)
    subset = triplets[(triplets[:, 0] < 5) & (triplets[:, 1] < 4)]
    rows = [["?"] * 4 for _ in range(5)]
    for movie, user, *_, rating in subset:
        rows[int(movie)][int(user)] = f"{rating:g}"
    grid = folder / "lab_subset.csv"
    grid.write_text("movie,user 0,user 1,user 2,user 3\n"
                    + "".join(f"movie {i},{','.join(r)}\n" for i, r in enumerate(rows)))
    window = new_window(folder)
    assert window.open_file(grid)
    panel = window.training_panel
    panel.bias_reg.setValue(0.0)
    panel.reg.setValue(1.5)
    panel.load_parameters([str(lab / f"small_movies_{name}.csv") for name in "XWb"])
    wait_for_run(window)
    panel.factors.setValue(3)
    wait(400)
    wait_for_run(window)
    print(panel.cost_label.text())
    window.grab().save(str(IMAGES / "lab-cost.png"))
    window.undo_stack.setClean()
    window.close()


def lab_training(lab: Path, movies_csv: Path, folder: Path):
    """The lab's ratings with titles, a new user, the lab's settings, 200 epochs, the new user's top 10."""
    (folder / "ratings.csv").symlink_to(lab / "small_movies_Y_R_reconstructed_triplets.csv")
    (folder / "movies.csv").symlink_to(movies_csv)
    window = new_window(folder)
    assert window.open_file(folder / "ratings.csv")
    table = window.table
    assert window.add_user("new user")
    ratings = table.ratings
    user = ratings.n_users - 1
    titles = list(ratings.item_titles())
    for title, stars in NEW_USER_RATINGS.items():
        row, column = table.position(user, titles.index(title))
        assert table.setData(table.index(row, column), str(stars))
    panel = window.training_panel
    panel.set_params({**COURSE_LAB_TRAINING, "n_epochs": 200})
    panel.log_scale.setChecked(True)  # from millions to thousands
    panel.train()
    wait_for_run(window)
    print(panel.cost_label.text())
    window.filter_edit.setText("Harry Potter")
    wait(300)
    row, column = table.position(user, titles.index("Harry Potter and the Chamber of Secrets (2002)"))
    index = window.proxy.mapFromSource(table.index(row, column))
    window.grid.setCurrentIndex(index)
    window.grid.scrollTo(index)
    wait(500)
    print("\n".join(window.explain_panel.recommendations.stringList()))
    window.grab().save(str(IMAGES / "lab-trained.png"))
    window.undo_stack.setClean()
    window.close()


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    lab, movies_csv = Path(argv[0]).resolve(), Path(argv[1]).resolve()
    make_application()
    with tempfile.TemporaryDirectory() as scratch:
        lab_cost(lab, Path(scratch))
    with tempfile.TemporaryDirectory() as scratch:
        lab_training(lab, movies_csv, Path(scratch))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
