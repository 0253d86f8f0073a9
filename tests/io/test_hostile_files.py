"""The hostile files the reader tests make are the same bytes in every process (they are test ids)."""

import io
import zipfile

import numpy as np

from .hostile_files import MEMBER_TIME, npz_bytes


def test_an_archive_made_for_a_test_id_does_not_depend_on_the_clock():
    content = npz_bytes({"item_factors": np.ones((2, 2)), "item_bias": np.zeros(2)})
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert {info.date_time for info in archive.infolist()} == {MEMBER_TIME}
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_DEFLATED}
