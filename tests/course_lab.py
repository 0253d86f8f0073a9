"""The course lab's files in the shared data, as tests use them."""

import numpy as np

from cfexplorer.io.presets import COURSE_LAB_TRAINING


def lab_subset_grid(shared_data, path):
    """Write the lab's first 5 movies × 4 users to ``path`` as a grid a student would type or paste (movies
    down); return the lab's X, W and b files."""
    folder = shared_data / "ng-cf-lab-small-movies"
    triplets = np.loadtxt(folder / "small_movies_Y_R_reconstructed_triplets.csv", delimiter=",", skiprows=1)
    subset = triplets[(triplets[:, 0] < 5) & (triplets[:, 1] < 4)]
    rows = [["?"] * 4 for _ in range(5)]
    for movie, user, *_, rating in subset:
        rows[int(movie)][int(user)] = f"{rating:g}"
    path.write_text("movie,user 0,user 1,user 2,user 3\n"
                    + "".join(f"movie {i},{','.join(r)}\n" for i, r in enumerate(rows)))
    return [folder / f"small_movies_{name}.csv" for name in "XWb"]


def use_the_labs_settings(panel, epochs: int):
    """The lab's training settings in the panel (k = 100, λ = 1, no bias term, Adam 0.1, mean normalization,
    N(0, 1) initialization, nothing held out), for ``epochs`` epochs."""
    panel.set_params({**COURSE_LAB_TRAINING, "n_epochs": epochs})
