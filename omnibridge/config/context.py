"""State shared by one profile load: where files are, the environment, and the problems found so far."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from omnibridge.config.located import FieldPath
from omnibridge.config.validation_errors import errors_from_validation
from omnibridge.config.yaml_source import YamlFile, read_yaml
from omnibridge.errors import ConfigError

ModelT = TypeVar("ModelT", bound=BaseModel)


@dataclass
class LoadContext:
    """One load run. ``base_dir`` is the profile's absolute directory; ``display_dir`` is the same directory as
    the user named it, so messages show paths the way they were typed. Every problem goes to ``errors``."""

    env: Mapping[str, str]
    base_dir: Path
    display_dir: Path
    errors: list[ConfigError] = field(default_factory=list)

    def locate(self, relative: str) -> tuple[Path, str]:
        """The absolute path of a file named relative to the profile, and how to name it in messages."""
        return (self.base_dir / relative).resolve(), str(self.display_dir / relative)

    def read(self, path: Path, display_name: str) -> YamlFile:
        """Read a YAML file and record its problems. Values from the environment are not registered as secrets
        here: only credentials are (settings declared ``SecretStr``, the store password), so a URL or a path taken
        from the environment still prints."""
        source = read_yaml(path, self.env, display_name=display_name)
        self.errors.extend(source.errors)
        return source

    def validate(self, model: type[ModelT], data: object, source: YamlFile, *, prefix: FieldPath = ()) -> ModelT | None:
        """``model`` validated from ``data`` (found at ``prefix`` in ``source``), or ``None`` with the problems
        recorded."""
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            self.errors.extend(errors_from_validation(exc, source, model, prefix=prefix))
            return None

    def problem(self, source: YamlFile, path: FieldPath, message: str, expected: str | None = None) -> None:
        """Record a problem found at ``path`` in ``source``."""
        source.error(message, path, expected=expected)
        self.errors.append(source.errors.pop())
