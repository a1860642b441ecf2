"""Tests for dbmarketing.messages: one-line errors, long lists cut with a count, YAML read with its place."""

import datetime as dt

import pytest

from dbmarketing import messages


class Planted(ValueError):
    pass


def test_cut_list_shows_the_first_items_and_counts_the_rest():
    assert messages.cut_list(["a", "b", "c"]) == "a, b, c"
    names = ["a", "b", "c"] + [f"x{i}" for i in range(9_997)]
    assert messages.cut_list(names, limit=3) == "a, b, c ... and 9,997 more"
    assert messages.cut_list(["a" * 100], width=10) == "aaaaaaa..."
    assert messages.cut_list(["line 2", "line 7"], limit=5, total=12) == "line 2, line 7 ... and 7 more"
    assert messages.cut_list([]) == ""


def test_one_line_and_foreign():
    assert messages.one_line("a\n  b\r\n\tc") == "a b c"
    assert messages.one_line("x" * 50, 10) == "xxxxxxx..."
    assert messages.foreign(RuntimeError('column "x" does not exist\nLINE 1: SELECT x\n               ^')) == \
        'column "x" does not exist'
    assert messages.foreign(KeyError()) == "KeyError"


def test_closest():
    assert messages.closest("as_off", ["as_of", "db_path", "seed"]) == "the closest is 'as_of'"
    assert messages.closest("zzz", ["as_of"]) == ""


def write(tmp_path, text: str | bytes):
    path = tmp_path / "p.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def read(path):
    with pytest.raises(Planted) as error:
        messages.read_yaml(path, Planted, "parameters file")
    message = str(error.value)
    assert "\n" not in message
    return message


def test_read_yaml_reads_dates_and_empty_files(tmp_path):
    assert messages.read_yaml(write(tmp_path, "as_of: 2026-10-31\nn: 3\n"), Planted) == {
        "as_of": dt.date(2026, 10, 31), "n": 3}
    assert messages.read_yaml(write(tmp_path, ""), Planted) is None
    assert messages.read_yaml(write(tmp_path, "\ufeffn: 1\n"), Planted) == {"n": 1}  # a BOM is no error


def test_read_yaml_names_a_date_that_does_not_exist_by_line_column_and_key(tmp_path):
    path = write(tmp_path, "db_path: x.duckdb\nsources:\n  - name: a\n    extracted: 2026-02-30\n")
    assert read(path) == (f"{path}, line 4, column 16: extracted: 2026-02-30 is not a date (day is out of range "
                          "for month); write a real date as YYYY-MM-DD")
    path = write(tmp_path, "dates: [2026-01-31, 2026-04-31]\n")  # in a list: no key, the column says which
    assert read(path).startswith(f"{path}, line 1, column 21: 2026-04-31 is not a date")


def test_read_yaml_syntax_errors_are_one_line_with_line_and_column(tmp_path):
    path = write(tmp_path, "a: 1\nb: [1, 2\nc: 3\n")
    assert read(path) == (f"{path}, line 3, column 2: not valid YAML: expected ',' or ']', but got ':' (while "
                          "parsing a flow sequence at line 2, column 4); close the list that [ opens with ]")
    path = write(tmp_path, "a: 1\n\tb: 2\n")
    assert read(path).startswith(f"{path}, line 2, column 1: not valid YAML: found character '\\t'")


def test_read_yaml_names_the_first_line_that_is_not_utf8(tmp_path):
    path = write(tmp_path, "a: 张三\nb: 1\nc: ".encode("utf-8") + "李四".encode("gbk") + b"\n")
    assert "李".encode("gbk")[0] == 0xC0  # a byte that never starts a UTF-8 character
    assert read(path) == f"{path}, line 3: the parameters file is not UTF-8 (invalid start byte); save it as UTF-8"


def test_read_yaml_places_a_character_yaml_does_not_allow(tmp_path):
    path = write(tmp_path, "a: 1\nb: x\x07y\n")
    assert read(path) == f"{path}, line 2, column 5: not valid YAML: special characters are not allowed (character #x0007)"


def test_read_yaml_of_a_missing_file(tmp_path):
    assert read(tmp_path / "none.yaml") == f"{tmp_path / 'none.yaml'}: cannot read the parameters file (No such file or directory)"


def test_safe_load_reads_the_workbooks_yaml_as_safe_load_does_and_fails_with_its_errors():
    import yaml
    from pathlib import Path

    import dbmarketing

    assert hasattr(yaml, "CSafeLoader")  # PyYAML with libyaml, as the lock installs it: the fast way is taken
    package = Path(dbmarketing.__file__).parent
    files = sorted(package.rglob("*.yaml"))
    assert len(files) > 20  # the word catalogs, their kinds, the segment and trigger maps
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert messages.safe_load(text) == yaml.safe_load(text), path
    for bad in ["a: [1, 2\nb: 3\n", "text:\n  x: 'open\n", "a: 1\n\tb: 2\n", "- a\nb: c\n"]:
        with pytest.raises(yaml.YAMLError) as slow:
            yaml.safe_load(bad)
        with pytest.raises(yaml.YAMLError) as fast:
            messages.safe_load(bad)
        assert str(fast.value) == str(slow.value), bad
