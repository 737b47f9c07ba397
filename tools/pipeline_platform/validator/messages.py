"""The prefect.yaml validator's longer messages: what Prefect would do with what was written, and what to
write instead. One problem, one message: each function here returns a single line."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from typing import Any

from prefect.utilities.templating import PlaceholderType, find_placeholders

from pipelines.common.naming import SECRET_NAMES

# pydantic's error types, as the value they ask for.
_EXPECTED = {
    "string_type": "a string",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "time_delta_type": "a duration (seconds, or ISO 8601 such as PT1H)",
    "time_delta_parsing": "a duration (seconds, or ISO 8601 such as PT1H)",
}
# Schedule keys of older Prefect versions (or of the city's previous repository) and what Prefect 3 takes.
FOREIGN_SCHEDULE_KEYS = {
    "flow_run_name": "a schedule does not name its runs: name them in the flow, `@flow(flow_run_name=...)`",
    "deployment_name": "a schedule runs the deployment it is listed under: remove the key (or move the "
    "schedule to that deployment)",
    "start_date": "use `anchor_date` (with `interval`)",
    "parameter_defaults": "use `parameters`",
}
NOT_A_MAPPING = "must be a mapping with `name:`, `pull:` and a `deployments:` list (see templates/)"
EMPTY_FILE = f"is empty: it {NOT_A_MAPPING}"
# Ends every message of a rule that raised (tests look for it: the validator must never raise).
INTERNAL_ERROR = "This is a bug of the prefect.yaml validator (pipeline_platform/validator)"
MAPPING_NOT_LIST = (
    "holds a mapping where a list is expected: write each {what} as a list item, starting with `- `"
)


def kind(value: Any) -> str:
    """What a YAML value is, for "must be X, not <kind>"."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, datetime.date):
        return f"a date ({value.isoformat()}; quote it to make it a string)"
    return f"{shorten(repr(value), 60)} ({type(value).__name__})"


def shorten(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def internal_error(part: str, error: BaseException) -> str:
    return (
        f"the validator could not check {part} ({type(error).__name__}: {shorten(str(error), 200)}); the "
        f"other rules were checked. {INTERNAL_ERROR}: please report it with this file"
    )


def unknown_key(key: str, close: str | None, section: str) -> str:
    if section == "schedule":
        if key in FOREIGN_SCHEDULE_KEYS:
            return f"unknown schedule key {key!r}: Prefect 3 rejects it too; {FOREIGN_SCHEDULE_KEYS[key]}"
        hint = f" (did you mean {close!r}?)" if close else ""
        return f"unknown key {key!r}{hint}: Prefect 3 rejects unknown schedule keys too"
    return f"unknown key {key!r}" + (f" (did you mean {close!r}?)" if close else "")


def type_error(details: Sequence[Any], value: Any) -> str:
    """One message for a field, however many members of its type's union pydantic tried."""
    nouns = [_EXPECTED.get(detail["type"]) if len(detail["loc"]) <= 2 else None for detail in details]
    if all(nouns):
        return f"must be {' or '.join(dict.fromkeys(str(noun) for noun in nouns))}, not {kind(value)}"
    found = (
        f"{'.'.join(str(part) for part in detail['loc'][1:])}: {detail['msg']}".lstrip(": ")
        for detail in details
    )
    return "; ".join(dict.fromkeys(found))


def singular_schedule(value: Any, with_schedules: bool) -> str:
    if with_schedules:
        return "`schedule:` and `schedules:` are both given: keep only `schedules:` (Prefect refuses both)"
    if isinstance(value, list):
        return (
            "`schedule:` holds a list: write `schedules:` (plural), the list of schedules; Prefect 3 refuses "
            "a list under `schedule:` and skips the whole file"
        )
    return "`schedule:` (singular) is deprecated: write `schedules:`, a list, with this schedule as its item"


def placeholders(value: str, allowed: Iterable[str]) -> str:
    """Why the placeholders of ``value`` other than ``allowed`` are not rendered here, one clause per kind."""
    found = sorted(
        (placeholder for placeholder in find_placeholders(value) if placeholder.name not in set(allowed)),
        key=lambda placeholder: value.index(placeholder.full_match),
    )
    clauses = []
    for placeholder_type, explain in _PLACEHOLDER_KINDS:
        of_kind = [placeholder for placeholder in found if placeholder.type is placeholder_type]
        if of_kind:
            names = ", ".join(repr(placeholder.full_match) for placeholder in of_kind)
            subject = f"placeholder {names} is" if len(of_kind) == 1 else f"placeholders {names} are"
            clauses.append(f"{subject} not supported: {explain(of_kind)}")
    return "; ".join(clauses)


def _env_vars(found: Sequence[Any]) -> str:
    return (
        "Prefect fills {{ $VAR }} from the environment of whoever deploys and renders it as an empty string "
        "when the variable is unset (only {{ $IMAGE_TAG }} is set here, by the deploy tool)"
    )


def _step_outputs(found: Sequence[Any]) -> str:
    steps = ", ".join(dict.fromkeys(repr(placeholder.name.split(".")[0]) for placeholder in found))
    return (
        f"{{{{ step.output }}}} placeholders are outputs of build steps ({steps}), which this repository "
        "does not run (Pants builds the images): write the value itself"
    )


def _variables(found: Sequence[Any]) -> str:
    return (
        "`prefect deploy` reads Prefect variables and blocks from the server, which this repository's deploy "
        "tool does not: write the value, or read it in the flow"
    )


_PLACEHOLDER_KINDS = (
    (PlaceholderType.ENV_VAR, _env_vars),
    (PlaceholderType.STANDARD, _step_outputs),
    (PlaceholderType.VARIABLE, _variables),
    (PlaceholderType.BLOCK_DOCUMENT, _variables),
)


def required_parameter(name: str, schedules: int, lacking: Sequence[int]) -> str:
    if not schedules:
        return (
            f"the flow requires parameter {name!r} and no value is given, and "
            "`enforce_parameter_schema: false` lets a run start without it: add it to `parameters:` or drop "
            "`enforce_parameter_schema: false`"
        )
    positions = ", ".join(f"schedules[{position}]" for position in lacking)
    return (
        f"the flow requires parameter {name!r} and no value is given for every run: add it to `parameters:` "
        f"or to every schedule ({positions} {'does' if len(lacking) == 1 else 'do'} not give it)"
    )


def schedule_kinds(kinds: Sequence[str]) -> str:
    if not kinds:
        return "a schedule needs one of `cron`, `interval` or `rrule`"
    return f"a schedule takes exactly one of `cron`, `interval` or `rrule`, not {' and '.join(kinds)}"


def work_pool_required(pools: Sequence[str], value: Any) -> str:
    expected = (
        f"`work_pool:` with `name:` ({' or '.join(pools)}) and `job_variables:` (`image`, `secretName`)"
    )
    if value is None:
        return f"a work pool is required: {expected}"
    return f"must be a mapping, {expected}, not {kind(value)}"


def job_variables_required(image: str, environment: str | None) -> str:
    secret = f"secretName: {SECRET_NAMES[environment]}" if environment else "secretName (of the environment)"
    return f"`job_variables:` is missing: it needs image: '{image}' and {secret}"
