"""A failed open, whatever the file holds, leaves the window's data, its undo history and the file as they
were, and says why in one line."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.io.test_reader_properties import table_bytes


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.one_of(st.binary(max_size=200), table_bytes()),
       suffix=st.sampled_from([".csv", ".tsv", ".data", ".xlsx", ".cfx"]))
def test_a_failed_open_changes_nothing(window, tmp_path, data, suffix):
    before = window.table.ratings
    before_dense, undo_steps, title = before.to_dense(), window.undo_stack.count(), window.document_title
    path = tmp_path / f"file{suffix}"
    path.write_bytes(data)
    opened = window.open_file(path, confirm=False)
    assert path.read_bytes() == data
    if opened:
        assert window.document_title == path.name
        return
    after = window.table.ratings
    np.testing.assert_array_equal(after.to_dense(), before_dense)
    assert list(after.user_labels) == list(before.user_labels)
    assert window.undo_stack.count() == undo_steps and window.document_title == title
    message = window.message_bar.text
    assert message and "\n" not in message and path.name in message
