from importlib import resources

import numpy as np
import pytest

from cfexplorer.io.presets import PRESETS, load_preset
from cfexplorer.io.readers import read_delimited_text


@pytest.mark.parametrize("name, filename", [("course", "course.csv"), ("course-eve", "course_eve.csv"),
                                            ("course-binary", "course_binary.csv")])
def test_course_presets_read_as_the_general_reader_reads_them(name, filename):
    text = resources.files("cfexplorer.resources").joinpath("presets", filename).read_text(encoding="utf-8")
    general = read_delimited_text(text, filename, binary=name == "course-binary").ratings
    preset = load_preset(name)
    np.testing.assert_array_equal(preset.to_dense(), general.to_dense())
    assert list(preset.user_labels) == list(general.user_labels)
    assert list(preset.item_labels) == list(general.item_labels)
    assert preset.binary == (name == "course-binary")


def test_every_preset_loads():
    for name in PRESETS:
        assert load_preset(name).n_ratings > 0
