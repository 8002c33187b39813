"""Internal names of columns, and the error when two collide (pure Python)."""

import pytest

from config.names import colliding_columns, describe_collision, internal_name


@pytest.mark.parametrize("column, name", [
    ("education-num", "education_num"), ("capital gain", "capital_gain"), ("x.y", "x_y"),
    ("2nd", "_2nd"), ("plain_name", "plain_name"), ("Größe", "Gr__e"),
])
def test_internal_name(column, name):
    assert internal_name(column) == name


def test_colliding_columns_are_grouped():
    assert colliding_columns(["a-b", "a b", "a_c", "x", "a-b"]) == [("a b", "a-b")]
    assert colliding_columns(["a-b", "c"]) == []


def test_collision_message_names_columns_internal_name_and_fix():
    assert describe_collision(("a b", "a-b")) == (
        "columns 'a b' and 'a-b' both become the internal name 'a_b' (characters other than letters, "
        "digits and _ are replaced by _); rename one of them in the file's header and in the configuration")
