"""Checks of one mapping of a prefect.yaml against a Prefect model, shared by the validator's rules: its
unknown keys (a misspelt key stays readable as the key it resembles), each field's type, values against a
JSON schema; and where every string of a value is. Each returns what it found as (location, reason) pairs."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from prefect.utilities.schema_tools.validation import CircularSchemaRefError, validate
from prefect.utilities.schema_tools.validation import ValidationError as PrefectValidationError

# Prefect's models are pydantic models; pydantic comes with the prefect requirement.
from pydantic import BaseModel, ValidationError  # pants: no-infer-dep

from pipeline_platform.validator import messages
from pipeline_platform.yaml_document import Location

Found = list[tuple[Location, str]]


@dataclass
class Section:
    """A mapping of the document and where it is. ``get`` also finds a misspelt key (reported once as unknown
    by ``read_section``), so the rules about its value are still checked."""

    location: Location
    raw: Mapping[Any, Any]
    misspelt: dict[str, Any] = field(default_factory=dict)

    def key(self, name: str) -> Any:
        return name if name in self.raw else self.misspelt.get(name, name)

    def get(self, name: str) -> Any:
        return self.raw.get(self.key(name))

    def at(self, name: str) -> Location:
        return (*self.location, str(self.key(name)))


def fields(model: type[BaseModel]) -> list[str]:
    """The keys a model reads (aliases such as ``prefect-version`` included)."""
    return [info.alias or name for name, info in model.model_fields.items()]


def read_section(
    location: Location, raw: Mapping[Any, Any], model: type[BaseModel], kind: str
) -> tuple[Section, Found]:
    """``raw`` as a section, and its unknown keys, each with a suggestion and, for a schedule, what Prefect 3
    takes instead."""
    allowed = fields(model)
    section = Section(location, raw)
    found: Found = []
    for key in raw:
        text = str(key)
        if isinstance(key, str) and key in allowed:
            continue
        close = difflib.get_close_matches(text, allowed, n=1)
        found.append(((*location, text), messages.unknown_key(text, close[0] if close else None, kind)))
        if close and close[0] not in raw and close[0] not in section.misspelt:
            section.misspelt[close[0]] = key
    return section, found


def type_problems(section: Section, model: type[BaseModel], names: Iterable[str]) -> Found:
    """Each field's value against its type in Prefect's model: one message per field, however many members
    of a union pydantic tried."""
    found: Found = []
    for name in names:
        value = section.get(name)
        if value is None:
            continue
        try:
            model.model_validate({name: value})
        except ValidationError as error:
            details = [detail for detail in error.errors(include_url=False) if detail["loc"][:1] == (name,)]
            if details:
                found.append((section.at(name), messages.type_error(details, value)))
    return found


def schema_errors(value: Mapping[Any, Any], schema: Mapping[str, Any]) -> Found:
    """Where ``value`` breaks the JSON schema and why, with Prefect's validation (the one the server runs)."""
    try:
        errors = validate(dict(value), dict(schema), raise_on_error=False, ignore_required=True)
    except CircularSchemaRefError:  # Prefect's name for the RecursionError of a value nested too deeply
        return [((), "nested too deeply to be checked (Prefect's own check fails the same way)")]
    except PrefectValidationError as error:
        return [((), messages.shorten(str(error)))]
    return [(tuple(str(part) for part in error.path), messages.shorten(error.message)) for error in errors]


def error_messages(error: Exception) -> list[str]:
    if isinstance(error, ValidationError):
        return [
            f"{'.'.join(str(part) for part in detail['loc'])}: {detail['msg']}".lstrip(": ")
            for detail in error.errors(include_url=False)
        ]
    return [str(error)]


def strings(value: Any, location: Location) -> Iterator[tuple[Location, str]]:
    """Every string of ``value`` and where it is (iterative: data may be nested a thousand levels deep)."""
    stack: list[tuple[Any, Location]] = [(value, location)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            yield where, item
        elif isinstance(item, dict):
            stack.extend((child, (*where, str(key))) for key, child in reversed(list(item.items())))
        elif isinstance(item, list):
            stack.extend((child, (*where, position)) for position, child in reversed(list(enumerate(item))))


def format_location(location: Location) -> str:
    """``deployments[1].work_pool.name``."""
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def suggestion(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
