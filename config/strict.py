"""What every configuration section shares: its base class (unknown keys are typos, so they are
errors), the pattern of a column name and the check for names listed twice."""

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    # Unknown keys are typos: reject them instead of silently ignoring them.
    model_config = ConfigDict(extra="forbid")


# A column as the file's header names it: any characters, no surrounding spaces
# (the header's spaces around a name are dropped when it is read).
COLUMN_NAME = r"^\S(.*\S)?$"


def duplicates(names: list[str]) -> list[str]:
    return sorted({n for n in names if names.count(n) > 1})
