"""The base of every configuration section: unknown keys are typos, so they are errors."""

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    # Unknown keys are typos: reject them instead of silently ignoring them.
    model_config = ConfigDict(extra="forbid")
