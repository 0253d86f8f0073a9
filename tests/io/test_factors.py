"""Factor files: export with names, import from CSV, .npz and .npy."""

import numpy as np
import pytest

from cfexplorer.core.embedding import Embedding, EmbeddingTable
from cfexplorer.io.factors import FactorFileError, read_factors, write_factors


def small_embedding():
    items = EmbeddingTable(["Toy Story", "Heat, the movie"], [[0.5, -1.0], [2.0, 0.25]], [0.1, -0.2], [3, 1], [4.0, 2.5])
    users = EmbeddingTable(["ann"], [[1.0, 1.0]], [0.3], [2], [3.5])
    return Embedding(items, users)


def test_csv_export_reads_back_with_names(tmp_path):
    path = tmp_path / "factors.csv"
    write_factors(small_embedding(), path)
    back = read_factors(path)
    assert list(back.items.names) == ["Toy Story", "Heat, the movie"]
    np.testing.assert_allclose(back.items.factors, [[0.5, -1.0], [2.0, 0.25]])
    np.testing.assert_allclose(back.users.bias, [0.3])
    assert "kind,name,bias,count,mean,f1,f2" in path.read_text().splitlines()[0]


def test_npz_with_names(tmp_path):
    path = tmp_path / "model.npz"
    np.savez(path, item_factors=np.eye(3), item_names=np.array(["a", "b", "c"]), item_bias=np.array([1.0, 2, 3]))
    embedding = read_factors(path)
    assert list(embedding.items.names) == ["a", "b", "c"] and len(embedding.users) == 0
    np.testing.assert_allclose(embedding.items.bias, [1, 2, 3])


def test_npy_takes_names_from_the_text_file_beside_it(tmp_path):
    np.save(tmp_path / "emb.npy", np.ones((2, 4)))
    (tmp_path / "emb.txt").write_text("Alien\nHeat\n", encoding="utf-8")
    embedding = read_factors(tmp_path / "emb.npy")
    assert list(embedding.items.names) == ["Alien", "Heat"] and embedding.items.n_factors == 4


def test_npy_without_names_numbers_the_movies(tmp_path):
    np.save(tmp_path / "emb.npy", np.ones((2, 3)))
    assert list(read_factors(tmp_path / "emb.npy").items.names) == ["movie 1", "movie 2"]


@pytest.mark.parametrize("text, problem", [
    ("kind,name,f1\nmovie,a,oops\n", "not a number"),
    ("kind,title,f1\nmovie,a,1\n", "'name' column"),
    ("kind,name,bias\nmovie,a,1\n", "factor columns"),
    ("kind,name,f1\nshop,a,1\n", "unknown kind"),
])
def test_bad_factor_files_say_what_is_wrong(tmp_path, text, problem):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(FactorFileError, match=problem) as error:
        read_factors(path)
    assert str(path) in str(error.value)


def test_names_and_rows_must_agree_for_npy(tmp_path):
    np.save(tmp_path / "emb.npy", np.ones((3, 2)))
    (tmp_path / "emb.txt").write_text("one\n", encoding="utf-8")
    with pytest.raises(FactorFileError, match="1 names for 3 rows"):
        read_factors(tmp_path / "emb.npy")
