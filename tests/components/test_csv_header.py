"""CSV header and row reading shared by ExampleGen and the data checks (pure Python)."""

import io

from components.csv_example_gen.header import parse_header, read_rows, strip_cells


def test_header_without_bom_crlf_and_spaces():
    assert parse_header('\ufeffage, education-num,"a,b" , x.y\r\n') == ["age", "education-num", "a,b", "x.y"]


def test_rows_are_keyed_by_the_clean_header_and_cells_stripped():
    text = "\ufeffa, b-c\r\n1, x\r\n\r\n2,\r\n"
    assert list(read_rows(io.StringIO(text, newline=""))) == [(2, {"a": "1", "b-c": "x"}),
                                                               (4, {"a": "2", "b-c": ""})]


def test_cells_lose_surrounding_spaces():
    assert strip_cells([b" 39", b"Male ", None]) == [b"39", b"Male", None]
