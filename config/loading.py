"""Reading a configuration: a YAML file into a dict, a dict into a validated PipelineConfig (one
``ConfigError`` line per problem), and writing one back as YAML."""

from __future__ import annotations

from typing import Any, Optional

import pydantic

from config.errors import ConfigError
from config.pipeline_config import PipelineConfig


def _loc_part(part: Any) -> str:
    """A setting's name as written, quoted when it is empty or holds spaces or line breaks."""
    text = str(part)
    return text if text and text.isprintable() and " " not in text else repr(text)


def _describe(error: dict[str, Any]) -> str:
    where = ".".join(_loc_part(part) for part in error["loc"])
    # A validator's message may quote a value as given; a line break in it would break the one line.
    message = error["msg"].removeprefix("Value error, ").replace("\n", "\\n")
    if error["type"] == "extra_forbidden":
        message = "unknown setting (check the spelling)"
    elif error["type"] not in ("value_error",) and "input" in error:
        shown = error["input"]
        if not isinstance(shown, (dict, list)):
            message = f"{message}, got {shown!r}"
    return f"{where}: {message}" if where else message


def build_config(raw: Optional[dict[str, Any]] = None, base_dir: Optional[str] = None) -> PipelineConfig:
    """Validates a plain dict; raises ConfigError with one line per problem.

    Relative data paths are resolved against ``base_dir`` (the config file's folder).
    """
    try:
        return PipelineConfig.model_validate(raw or {}, context={"base_dir": base_dir})
    except pydantic.ValidationError as exc:
        lines = [_describe(e) for e in exc.errors()]
        raise ConfigError("invalid configuration: " + "; ".join(lines)) from None


def load_config_file(path) -> dict[str, Any]:
    """Reads a YAML configuration file into a plain dict (validated by build_config)."""
    import yaml  # local: only the file path needs it

    try:
        text = open(path, encoding="utf-8").read()
    except OSError as exc:
        raise ConfigError(f"cannot read configuration file {path}: {exc.strerror}") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path} must hold a mapping of settings, got {type(raw).__name__}")
    return raw


def write_config_file(config: PipelineConfig, path) -> None:
    """Writes the configuration as YAML that ``load_config_file`` and ``build_config`` read back."""
    import yaml  # local: only the file path needs it

    raw = config.model_dump(mode="json", exclude_defaults=False)
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(raw, f, sort_keys=False)
