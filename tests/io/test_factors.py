"""Factor files: export with names, import from CSV, .npz and .npy; arrays checked before and after
loading (headers, sizes, shapes, finite values)."""

import tracemalloc

import numpy as np
import pytest

from cfexplorer.core.embedding import Embedding, EmbeddingTable
from cfexplorer.io import limits
from cfexplorer.io.factors import FactorFileError, read_factors, write_factors

from .hostile_files import declare_size, npy_bytes, npz_bytes

MB = 2**20


def refused(path) -> str:
    with pytest.raises(FactorFileError) as caught:
        read_factors(path)
    message = str(caught.value)
    assert message.startswith(str(path)) and "\n" not in message, message
    return message


def peak_bytes(call) -> int:
    tracemalloc.start()
    try:
        call()
    except FactorFileError:
        pass
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


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


# --- .npy / .npz --------------------------------------------------------------------------------------------
HUGE = (1_825_000_000, 1)  # 14.6 GB of float64


@pytest.mark.parametrize("name, content, words", [
    ("bomb.npz", npz_bytes({"item_factors": npy_bytes(HUGE, data=bytes(1 * MB))}),
     "array 'item_factors' declares (1825000000, 1) (14.6 GB) but its part of the archive holds 1.0 MB"),
    ("bomb.npy", npy_bytes(HUGE, data=bytes(1 * MB)), "the array declares (1825000000, 1) (14.6 GB) but the file holds"),
    ("objects.npz", npz_bytes({"item_factors": npy_bytes((2, 2), "|O", data=b"")}), "holds Python objects"),
    ("objects.npy", npy_bytes((2,), "|O", data=b""), "holds Python objects"),
    ("complex.npy", npy_bytes((2, 2), "<c16"), "has type complex128; expected numbers"),
    ("record.npz", npz_bytes({"item_factors": np.zeros(2, dtype=[("a", "<f8")])}), "expected numbers"),
    ("header.npy", b"\x93NUMPY\x01\x00\x10\x00{'descr': 3}    \n", "damaged header"),
    ("flat.npz", npz_bytes({"item_factors": np.ones(4)}), "item_factors must be a 2-D array"),
    ("cube.npy", np.ones((2, 2, 2)), "expected a 2-D array"),
    ("nan.npz", npz_bytes({"item_factors": np.array([[1.0, np.nan]])}), "a movie factor is not a finite number (row 1)"),
    ("inf.npy", np.array([[1.0], [-np.inf]]), "a movie factor is not a finite number (row 2)"),
    ("absurd.npy", np.array([[1e300]]), "a movie factor is beyond ±1,000,000"),
    ("bias.npz", npz_bytes({"item_factors": np.ones((3, 2)), "item_bias": np.ones(2)}),
     "item_bias must be 3 numbers, one per row of item_factors"),
    ("nanbias.npz", npz_bytes({"item_factors": np.ones((2, 2)), "item_bias": np.array([0, np.nan])}),
     "a movie bias is not a finite number"),
    ("names.npz", npz_bytes({"item_factors": np.ones((3, 2)), "item_names": np.array(["a", "b"])}),
     "item_names has shape (2,) for 3 rows"),
    ("k.npz", npz_bytes({"item_factors": np.ones((3, 2)), "user_factors": np.ones((4, 5))}),
     "user_factors has 5 factors but item_factors has 2"),
    ("users.npz", npz_bytes({"item_factors": np.ones((3, 2)), "user_factors": np.ones((4, 2)),
                            "user_bias": np.ones((4, 1))}), "user_bias must be 4 numbers"),
    ("none.npz", npz_bytes({"factors": np.ones((3, 2))}), "no 'item_factors' array"),
    ("notzip.npz", b"not a zip", "not a zip archive of arrays"),
])
def test_factor_arrays_are_checked_before_and_after_loading(tmp_path, name, content, words):
    path = tmp_path / name
    if isinstance(content, np.ndarray):
        np.save(path, content)
    else:
        path.write_bytes(content)
    assert peak_bytes(lambda: read_factors(path)) < 20 * MB
    assert words in refused(path)


def test_a_factor_csv_with_infinite_bias_is_refused(tmp_path):
    path = tmp_path / "factors.csv"
    path.write_text("kind,name,bias,f1\nmovie,a,inf,1\n")
    assert "a movie bias is beyond ±1,000,000 (row 1)" in refused(path)


def test_arrays_past_free_memory_are_refused(tmp_path, monkeypatch):
    path = tmp_path / "factors.npz"
    path.write_bytes(npz_bytes({"item_factors": np.ones((100, 10))}))
    monkeypatch.setattr(limits, "available_memory", lambda: 10_000)
    assert "loading this file needs about 16.0 kB of memory; 10.0 kB is free" in refused(path)


def test_the_largest_array_a_file_may_hold(tmp_path, monkeypatch):
    path = tmp_path / "big.npz"
    path.write_bytes(declare_size(npz_bytes({"item_factors": npy_bytes((2**31, 4), data=b"")}),
                                  "item_factors.npy", 2**32 - 1))
    # the part declares 4 GB, and its header 64 GB: refused by the header, whatever memory there is
    monkeypatch.setattr(limits, "available_memory", lambda: 2**50)
    assert "declares (2147483648, 4) (68.7 GB) but its part of the archive holds 4.3 GB" in refused(path)
    path.write_bytes(declare_size(npz_bytes({"item_factors": npy_bytes((2**29 - 16, 1), data=b"")}),
                                  "item_factors.npy", 2**32 - 1))
    monkeypatch.setattr(limits, "MAX_ARRAY_BYTES", 2**30)
    assert "declares 4.3 GB of arrays, more than the 1.1 GB a file may hold" in refused(path)
