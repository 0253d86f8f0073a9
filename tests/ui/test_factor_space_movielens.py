"""Star Wars' neighbours on MovieLens latest-small are its sequels and peers, not films rated once or twice.

Training in the window takes about 9 s on the shared machine (reading, the grid, 20 ALS epochs): this trains
the window's default model the way its worker does (the default settings, 10% held out with the seed's
split) and hands the result to the factor space the window shows, whose neighbour list is then read."""

from cfexplorer.core.embedding import Embedding
from cfexplorer.core.models import make_model
from cfexplorer.core.ratings import train_test_split
from cfexplorer.io.readers import read_any
from cfexplorer.ui.factor_space import NEIGHBOUR_MIN_RATINGS, FactorSpaceView

STAR_WARS = "Star Wars: Episode IV - A New Hope (1977)"
SEQUELS = {"Star Wars: Episode V - The Empire Strikes Back (1980)",
           "Star Wars: Episode VI - Return of the Jedi (1983)"}
WINDOW_VALIDATION_SHARE, WINDOW_SEED = 0.1, 0  # the training panel's defaults for new data


def test_star_wars_neighbours_are_its_sequels_among_well_rated_movies(qtbot, shared_data, settings):
    ratings = read_any(shared_data / "ml-latest-small" / "ratings.csv").ratings
    model = make_model("mf")  # the window's default model, with its default settings
    train, _ = train_test_split(ratings, WINDOW_VALIDATION_SHARE, seed=WINDOW_SEED)
    model.fit(train)

    view = FactorSpaceView(settings)
    qtbot.addWidget(view)
    view.choose_defaults(ratings)
    view.set_ratings(ratings)
    view.set_embedding(Embedding.from_model(model.predictor(), ratings, model.n_epochs))
    assert view.neighbour_min_ratings.value() == NEIGHBOUR_MIN_RATINGS  # the default filter on 9,724 movies
    assert view.find(STAR_WARS)

    tree = view.neighbours
    rows = [tree.topLevelItem(r) for r in range(tree.topLevelItemCount())]
    listed = [(row.text(0), int(row.text(2))) for row in rows]
    assert len(listed) == view.neighbour_count.value()
    assert STAR_WARS in view.neighbour_title.text()
    assert SEQUELS <= {name for name, _ in listed}, listed
    assert all(count >= NEIGHBOUR_MIN_RATINGS for _, count in listed), listed
    counts = dict(zip(ratings.item_titles(), ratings.item_counts()))
    assert all(counts[name] == count for name, count in listed)
