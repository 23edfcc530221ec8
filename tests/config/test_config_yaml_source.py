from __future__ import annotations

from pathlib import Path

from omnibridge.config.located import LineMap, format_path
from omnibridge.config.yaml_source import YamlFile, read_yaml


def _read(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> YamlFile:
    path = tmp_path / "f.yaml"
    path.write_text(text, encoding="utf-8")
    return read_yaml(path, env or {})


def test_every_key_and_item_has_its_line(tmp_path: Path) -> None:
    source = _read(tmp_path, "a: 1\nb:\n  c: x\n  d:\n    - p\n    - q: 2\n")
    assert source.data == {"a": 1, "b": {"c": "x", "d": ["p", {"q": 2}]}}
    assert source.lines.line_of(("a",)) == 1
    assert source.lines.line_of(("b", "c")) == 3
    assert source.lines.line_of(("b", "d", 1)) == 6
    assert source.lines.line_of(("b", "d", 1, "q")) == 6
    assert source.lines.line_of(("b", "missing")) == 2  # falls back to the enclosing key


def test_keys_keep_the_text_written(tmp_path: Path) -> None:
    source = _read(tmp_path, "on: 1\n00123: x\nyes: 2\n")
    assert source.data == {"on": 1, "00123": "x", "yes": 2}


def test_scalars_are_typed_like_yaml(tmp_path: Path) -> None:
    source = _read(tmp_path, "i: 10\nf: 1.5\nb: true\nn: ~\ns: '10'\n")
    assert source.data == {"i": 10, "f": 1.5, "b": True, "n": None, "s": "10"}


def test_duplicate_key_is_reported_with_both_lines(tmp_path: Path) -> None:
    source = _read(tmp_path, "a: 1\nb: 2\na: 3\n")
    [error] = source.errors
    assert error.line == 3
    assert error.field == "a"
    assert "first set on line 1" in error.message


def test_env_interpolation_keeps_line_and_marks_path(tmp_path: Path) -> None:
    source = _read(tmp_path, "x: 1\ntoken: ${TOK}\n", {"TOK": "s3cr3t-value"})
    assert source.data == {"x": 1, "token": "s3cr3t-value"}
    assert ("token",) in source.env_paths
    assert source.env_values == ["s3cr3t-value"]


def test_missing_env_variable_is_an_error_at_its_line(tmp_path: Path) -> None:
    source = _read(tmp_path, "a:\n  b:\n    c: ${NOT_SET_ANYWHERE}\n")
    [error] = source.errors
    assert (error.line, error.field) == (3, "a.b.c")
    assert "NOT_SET_ANYWHERE" in error.message
    assert ("a", "b", "c") in source.failed_paths


def test_syntax_error_names_line_and_field(tmp_path: Path) -> None:
    source = _read(tmp_path, "merchant:\n  name: Acme\n   currency: USD\n")
    assert source.data is None
    [error] = source.errors
    assert error.line == 3
    assert error.field == "merchant"
    assert error.message.startswith("invalid YAML:")


def test_unclosed_quote_points_at_its_opening_line(tmp_path: Path) -> None:
    source = _read(tmp_path, 'a: 1\nb: "open\nc: 2\n')
    [error] = source.errors
    assert error.line == 2
    assert error.field == "b"


def test_empty_file_is_an_empty_mapping(tmp_path: Path) -> None:
    source = _read(tmp_path, "# nothing\n")
    assert source.data == {}
    assert source.errors == []


def test_missing_file(tmp_path: Path) -> None:
    source = read_yaml(tmp_path / "absent.yaml", {})
    [error] = source.errors
    assert error.message == "file not found"
    assert error.line is None


def test_unknown_tag_is_reported(tmp_path: Path) -> None:
    source = _read(tmp_path, "a: !vault abc\n")
    [error] = source.errors
    assert "unsupported YAML tag" in error.message


def test_merge_keys_are_resolved(tmp_path: Path) -> None:
    source = _read(tmp_path, "base: &b {x: 1}\nother:\n  <<: *b\n  y: 2\n")
    assert source.data["other"] == {"x": 1, "y": 2}


def test_format_path() -> None:
    assert format_path(("channels", 0, "connector")) == "channels[0].connector"
    assert format_path(("sku_aliases", "ABC-1")) == "sku_aliases.ABC-1"
    assert format_path(("sku_aliases", "a b")) == "sku_aliases['a b']"
    assert format_path(()) == ""


def test_line_map_falls_back_to_root() -> None:
    lines = LineMap(root_line=4)
    assert lines.line_of(("x", "y")) == 4


def test_directory_and_binary_files_are_clear_errors(tmp_path: Path) -> None:
    [error] = read_yaml(tmp_path, {}).errors
    assert (error.message, error.line) == ("is a directory", None)
    binary = tmp_path / "b.yaml"
    binary.write_bytes(b"\xff\xfe\x00")
    [error] = read_yaml(binary, {}).errors
    assert error.message == "is not UTF-8 text"
