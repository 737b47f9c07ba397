"""Two linters for `./pants lint`, both running the checker in tools/pipeline_conventions:

- `pipeline-conventions`: for every directory of pipelines/ holding a file the specs select, its name, its
  required files and its prefect.yaml (pipeline_conventions.check pipelines ...), plus the visibility rules
  of pipelines/BUILD (one pipeline importing another) reported as lint failures;
- `detect-secrets`: every file the specs select, scanned for secrets not reviewed in .secrets.baseline.

This code runs inside Pants (Python 3.9) and stays thin: the checks themselves are typed, tested Python 3.13
code of the repository's resolve, built into a PEX from the checker's target and run in a sandbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pants.backend.python.target_types import EntryPoint
from pants.backend.python.util_rules.pex import PexRequest, VenvPex, VenvPexProcess
from pants.backend.python.util_rules.pex_from_targets import PexFromTargetsRequest
from pants.base.specs import RawSpecs, RecursiveGlobSpec
from pants.core.goals.lint import LintFilesRequest, LintResult
from pants.core.util_rules.partitions import PartitionerType, Partitions
from pants.engine.addresses import Address, Addresses, AddressInput
from pants.engine.fs import Digest, PathGlobs
from pants.engine.process import FallibleProcessResult
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.engine.target import Dependencies, DependenciesRequest, Targets
from pants.option.global_options import GlobMatchErrorBehavior
from pants.option.option_types import SkipOption, StrListOption, StrOption
from pants.option.subsystem import Subsystem
from pants.util.logging import LogLevel
from pants.util.strutil import pluralize

CHECKER_MAIN = "pipeline_conventions.check"


class PipelineConventions(Subsystem):
    options_scope = "pipeline-conventions"
    name = "pipeline-conventions"
    help = "Naming, layout, prefect.yaml and import rules of pipelines/ (docs/convencoes.md)."

    skip = SkipOption("lint")
    checker = StrOption(
        default="tools/pipeline_conventions/check.py",
        help="Address of the checker's Python source (its module is run as the checker).",
        advanced=True,
    )
    pipelines_dir = StrOption(default="pipelines", help="Directory holding one directory per pipeline.")
    inputs = StrListOption(
        default=["infra/work-pools/*.json"],
        help="Files outside the pipelines' directories that the checks read (globs, from the build root).",
        advanced=True,
    )


class DetectSecrets(Subsystem):
    options_scope = "detect-secrets"
    name = "detect-secrets"
    help = "Secrets committed by mistake, except the reviewed ones in the baseline (docs/convencoes.md)."

    skip = SkipOption("lint")
    baseline = StrOption(
        default=".secrets.baseline", help="detect-secrets baseline, relative to the build root."
    )


class PipelineConventionsRequest(LintFilesRequest):
    tool_subsystem = PipelineConventions
    partitioner_type = PartitionerType.CUSTOM


class DetectSecretsRequest(LintFilesRequest):
    tool_subsystem = DetectSecrets
    partitioner_type = PartitionerType.CUSTOM


@dataclass(frozen=True)
class CheckerPex:
    pex: VenvPex


@rule(desc="Build the conventions checker", level=LogLevel.DEBUG)
async def build_checker(conventions: PipelineConventions) -> CheckerPex:
    address = await Get(
        Address,
        AddressInput,
        AddressInput.parse(conventions.checker, description_of_origin="[pipeline-conventions].checker"),
    )
    pex_request = await Get(
        PexRequest,
        PexFromTargetsRequest(
            [address],
            output_filename="pipeline_conventions.pex",
            internal_only=True,
            main=EntryPoint(CHECKER_MAIN),
        ),
    )
    return CheckerPex(await Get(VenvPex, PexRequest, pex_request))


@dataclass(frozen=True)
class PipelineDirs:
    directories: tuple[str, ...]


@dataclass(frozen=True)
class DependencyViolations:
    messages: tuple[str, ...]


@rule(desc="Check the visibility rules of pipelines", level=LogLevel.DEBUG)
async def dependency_violations(request: PipelineDirs) -> DependencyViolations:
    """Resolving a target's dependencies applies the `__dependencies_rules__`; a violation is an error,
    caught here so that lint reports it (file and rule) next to the other problems."""
    targets = await Get(
        Targets,
        RawSpecs(
            recursive_globs=tuple(RecursiveGlobSpec(directory) for directory in request.directories),
            unmatched_glob_behavior=GlobMatchErrorBehavior.ignore,
            description_of_origin="the pipeline-conventions linter",
        ),
    )
    messages = []
    for target in targets:
        if not target.has_field(Dependencies):
            continue
        try:
            await Get(Addresses, DependenciesRequest(target[Dependencies]))
        except Exception as error:  # DependencyRuleActionDeniedError, raised by the visibility backend
            messages.append(f"{target.address}: {error}")
    return DependencyViolations(tuple(messages))


@rule
async def partition_pipelines(
    request: PipelineConventionsRequest.PartitionRequest, conventions: PipelineConventions
) -> Partitions[str, Any]:
    if conventions.skip:
        return Partitions()
    root = conventions.pipelines_dir.strip("/")
    directories = set()
    for path in request.files:
        parts = path.split("/")
        if len(parts) > 2 and parts[0] == root:
            directories.add(f"{root}/{parts[1]}")
    return Partitions.single_partition(sorted(directories)) if directories else Partitions()


@rule(desc="Check pipeline conventions", level=LogLevel.DEBUG)
async def run_pipeline_conventions(
    request: PipelineConventionsRequest.Batch[str, Any], conventions: PipelineConventions, checker: CheckerPex
) -> LintResult:
    directories = tuple(request.elements)
    files, violations = await MultiGet(
        Get(Digest, PathGlobs([*(f"{directory}/**" for directory in directories), *conventions.inputs])),
        Get(DependencyViolations, PipelineDirs(directories)),
    )
    result = await Get(
        FallibleProcessResult,
        VenvPexProcess(
            checker.pex,
            argv=["pipelines", *directories],
            input_digest=files,
            description=f"Check conventions of {pluralize(len(directories), 'pipeline directory')}",
            level=LogLevel.DEBUG,
        ),
    )
    stdout = result.stdout.decode()
    if violations.messages:
        stdout += (
            "\nImports that break pipelines/BUILD's visibility rules (a pipeline may use only its own "
            "modules, pipelines/common and third-party requirements; move shared code to pipelines/common):\n"
            + "\n".join(violations.messages)
            + "\n"
        )
    return LintResult(
        exit_code=result.exit_code or (1 if violations.messages else 0),
        stdout=stdout,
        stderr=result.stderr.decode(),
        linter_name=request.tool_name,
    )


@rule
async def partition_files_for_secrets(
    request: DetectSecretsRequest.PartitionRequest, detect_secrets: DetectSecrets
) -> Partitions[str, Any]:
    if detect_secrets.skip:
        return Partitions()
    files = sorted(path for path in request.files if path != detect_secrets.baseline)
    return Partitions.single_partition(files) if files else Partitions()


@rule(desc="Scan for secrets", level=LogLevel.DEBUG)
async def run_detect_secrets(
    request: DetectSecretsRequest.Batch[str, Any], detect_secrets: DetectSecrets, checker: CheckerPex
) -> LintResult:
    files = tuple(request.elements)
    inputs = await Get(Digest, PathGlobs([detect_secrets.baseline, *files]))
    result = await Get(
        FallibleProcessResult,
        VenvPexProcess(
            checker.pex,
            argv=["secrets", "--baseline", detect_secrets.baseline, *files],
            input_digest=inputs,
            description=f"Scan {pluralize(len(files), 'file')} for secrets",
            level=LogLevel.DEBUG,
        ),
    )
    return LintResult.create(request, result)


def rules():
    return [
        *collect_rules(),
        *PipelineConventionsRequest.rules(),
        *DetectSecretsRequest.rules(),
    ]
