"""Read one YAML file into plain data, remembering the line of every field and substituting ``${VAR}``.

PyYAML's composer gives a node tree with marks; :func:`read_yaml` walks it itself (rather than calling
``yaml.safe_load``) so that each key's line lands in a :class:`~omnibridge.config.located.LineMap`, keys keep the
text the merchant wrote (``on:`` stays ``"on"``, ``00123:`` stays ``"00123"``), duplicate keys are reported instead
of silently dropped, and environment interpolation happens per string scalar with the scalar's own line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceStartEvent,
)

from omnibridge.config.interpolate import interpolate
from omnibridge.config.located import FieldPath, LineMap, PathItem, format_path
from omnibridge.errors import ConfigError

_STR_TAG = "tag:yaml.org,2002:str"


@dataclass
class YamlFile:
    """The outcome of reading one file.

    ``data`` is ``None`` when the file could not be read or parsed (``errors`` then says why). ``env_paths`` are
    the fields whose value came (partly) from the environment; their values must never be echoed in messages.
    ``failed_paths`` are fields already reported (e.g. a missing variable), so validation errors under them are
    noise. ``env_values`` are the raw values taken from the environment, to register as secrets.
    """

    display_name: str
    data: Any = None
    lines: LineMap = field(default_factory=LineMap)
    errors: list[ConfigError] = field(default_factory=list)
    env_paths: set[FieldPath] = field(default_factory=set)
    failed_paths: set[FieldPath] = field(default_factory=set)
    env_values: list[str] = field(default_factory=list)

    def error(self, message: str, path: FieldPath, *, expected: str | None = None, line: int | None = None) -> None:
        """Record a problem at ``path`` (its line is looked up unless given)."""
        self.errors.append(
            ConfigError(
                message,
                file=self.display_name,
                line=line if line is not None else self.lines.line_of(path),
                field=format_path(path) or None,
                expected=expected,
            )
        )


def read_yaml(path: Path, env: Mapping[str, str], *, display_name: str | None = None) -> YamlFile:
    """Read, parse and interpolate ``path``. Never raises for bad input: problems are in ``YamlFile.errors``.

    An empty file yields ``{}``. ``display_name`` is how the file is named in messages (default: ``str(path)``).
    """
    result = YamlFile(display_name=display_name or str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        problem, expected = "file not found", "an existing YAML file"
    except IsADirectoryError:
        problem, expected = "is a directory", "a YAML file"
    except UnicodeDecodeError:
        problem, expected = "is not UTF-8 text", "a UTF-8 encoded YAML file"
    except OSError as exc:
        problem, expected = f"cannot be read: {exc.strerror or type(exc).__name__}", "a readable YAML file"
    else:
        problem = expected = ""
    if problem:
        result.errors.append(ConfigError(problem, file=result.display_name, expected=expected))
        return result

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        _report_syntax_error(result, text, exc)
        return result
    except yaml.YAMLError as exc:
        result.error(f"invalid YAML: {_one_line(str(exc))}", (), expected="valid YAML")
        return result

    if root is None:
        result.data = {}
        return result
    result.lines.root_line = root.start_mark.line + 1
    result.data = _Walker(result, env).walk(root, (), frozenset())
    return result


class _Walker:
    def __init__(self, target: YamlFile, env: Mapping[str, str]) -> None:
        self.target = target
        self.env = env
        self.constructor = SafeConstructor()

    def walk(self, node: yaml.Node, path: FieldPath, active: frozenset[int]) -> Any:
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, path)
        if id(node) in active:
            self.target.error("recursive alias", path, expected="an alias to a node outside itself")
            self.target.failed_paths.add(path)
            return None
        active = active | {id(node)}
        if isinstance(node, yaml.SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                self.target.lines.record((*path, index), item.start_mark.line + 1)
                items.append(self.walk(item, (*path, index), active))
            return items
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, path, active)
        return None  # pragma: no cover - the composer only builds the three node kinds

    def mapping(self, node: yaml.MappingNode, path: FieldPath, active: frozenset[int]) -> dict[str, Any]:
        try:
            self.constructor.flatten_mapping(node)  # resolves '<<' merge keys in place
        except yaml.MarkedYAMLError as exc:
            line = exc.problem_mark.line + 1 if exc.problem_mark else None
            self.target.error(f"invalid merge key: {_one_line(exc.problem or '')}", path, line=line)
            return {}
        data: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                self.target.error("a key must be plain text", path, expected="'name: value'", line=line)
                continue
            key = str(key_node.value)
            child: FieldPath = (*path, key)
            if key in first_line:
                self.target.error(
                    f"duplicate key '{key}' (first set on line {first_line[key]})",
                    child,
                    expected="each key at most once per mapping",
                    line=line,
                )
                self.target.failed_paths.add(child)
                continue
            first_line[key] = line
            self.target.lines.record(child, line)
            data[key] = self.walk(value_node, child, active)
        return data

    def scalar(self, node: yaml.ScalarNode, path: FieldPath) -> Any:
        line = node.start_mark.line + 1
        if node.tag == _STR_TAG:
            outcome = interpolate(str(node.value), self.env)
            for problem in outcome.problems:
                self.target.error(problem.message, path, expected=problem.expected, line=line)
                self.target.failed_paths.add(path)
            if outcome.env_values:
                self.target.env_paths.add(path)
                self.target.env_values.extend(outcome.env_values)
            return outcome.value
        try:
            return self.constructor.construct_object(node, deep=True)
        except yaml.YAMLError:
            self.target.error(f"unsupported YAML tag '{node.tag}'", path, expected="a plain value", line=line)
            self.target.failed_paths.add(path)
            return None


def _report_syntax_error(result: YamlFile, text: str, exc: yaml.MarkedYAMLError) -> None:
    mark = exc.problem_mark or exc.context_mark
    if exc.context_mark is not None and "end of stream" in (exc.problem or ""):
        mark = exc.context_mark  # an unclosed quote or bracket: point at where it was opened
    line = mark.line + 1 if mark is not None else None
    problem = exc.problem or "cannot be parsed"
    if exc.context and exc.context not in problem:
        problem = f"{problem} ({exc.context})"
    path = _path_at_syntax_error(text)
    result.errors.append(
        ConfigError(
            f"invalid YAML: {_one_line(problem)}",
            file=result.display_name,
            line=line,
            field=format_path(path) or None,
            expected="valid YAML: 'key: value' pairs, consistent indentation, quotes closed",
        )
    )


class _Frame:
    __slots__ = ("expect_key", "index", "is_mapping", "key")

    def __init__(self, is_mapping: bool) -> None:
        self.is_mapping = is_mapping
        self.expect_key = True
        self.key: PathItem | None = None
        self.index = -1


def _path_at_syntax_error(text: str) -> FieldPath:
    """Replay the parser's events up to the error to find which field it was in (best effort)."""
    frames: list[_Frame] = []
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, CollectionEndEvent):
                if frames:
                    frames.pop()
                continue
            if not isinstance(event, ScalarEvent | AliasEvent | MappingStartEvent | SequenceStartEvent):
                continue
            if frames:
                top = frames[-1]
                if top.is_mapping:
                    if top.expect_key:
                        top.key = event.value if isinstance(event, ScalarEvent) else "?"
                    top.expect_key = not top.expect_key
                else:
                    top.index += 1
            if isinstance(event, MappingStartEvent | SequenceStartEvent):
                frames.append(_Frame(isinstance(event, MappingStartEvent)))
    except yaml.YAMLError:
        pass
    path: list[PathItem] = []
    for depth, frame in enumerate(frames):
        innermost = depth == len(frames) - 1
        if frame.is_mapping:
            # an open value belongs to the last key; between entries, the innermost mapping is the place
            if frame.key is not None and (not frame.expect_key or not innermost):
                path.append(frame.key)
        elif frame.index >= 0:
            path.append(frame.index)
    return tuple(path)


def _one_line(text: str) -> str:
    return " ".join(text.split())
