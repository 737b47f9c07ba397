"""Runs a GitHub Actions job the way a fresh GitHub runner would, on a clone of the repository.

Each `run:` step runs in bash with GitHub's shell flags and files (GITHUB_ENV, GITHUB_OUTPUT, GITHUB_PATH,
GITHUB_STEP_SUMMARY), `${{ }}` expressions are evaluated from the given contexts, `if:` is honoured,
composite actions of the repository are expanded with their inputs, and marketplace actions are stood in
for: checkout is the clone itself, cache restores nothing, setup-python is the machine's interpreters.
`sudo` resets the environment but for what `--preserve-env` names, as GitHub's runners do. Any other
marketplace action, or a context the job reads and that was not given, fails the run.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from interpreters import find_python

from repo_testing.workspace import stop_pantsd

STAND_INS = {"actions/checkout", "actions/cache", "actions/setup-python"}
_EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
_REFERENCE = re.compile(r"(?<!['\w.])([a-z_]+(?:\.[A-Za-z0-9_-]+)+)")
_SUDO = """#!/usr/bin/env bash
# sudo as on GitHub's runners (passwordless, environment reset but for --preserve-env); here already root.
# The machine's proxy and CA bundle stay: a GitHub runner reaches the package index without them.
keep=(PATH HOME HTTP_PROXY HTTPS_PROXY NO_PROXY http_proxy https_proxy no_proxy)
keep+=(PIP_CERT SSL_CERT_FILE REQUESTS_CA_BUNDLE)
while [[ "${1:-}" == -* ]]; do
  case "$1" in
    --preserve-env=*) IFS=, read -r -a more <<<"${1#--preserve-env=}"; keep+=("${more[@]}") ;;
    -E | --preserve-env) exec "${@:2}" ;;
  esac
  shift
done
env_args=()
for name in "${keep[@]}"; do [[ -n "${!name+x}" ]] && env_args+=("${name}=${!name}"); done
exec env -i "${env_args[@]}" "$@"
"""


class WorkflowError(RuntimeError):
    """The job cannot run as GitHub would run it (an unknown action or context, a bad expression)."""


@dataclass
class StepResult:
    name: str
    returncode: int
    output: str
    seconds: float


@dataclass
class JobResult:
    steps: list[StepResult] = field(default_factory=list)
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    summary: str = ""

    @property
    def ok(self) -> bool:
        return all(step.returncode == 0 for step in self.steps)

    def timings(self) -> str:
        return "\n".join(f"{step.seconds:7.1f} s  {step.name}" for step in self.steps)

    def log(self) -> str:
        return "\n".join(
            f"=== {step.name}: exit {step.returncode} ({step.seconds:.0f} s)\n{step.output[-6000:]}"
            for step in self.steps
        )


def _read_file_commands(path: Path) -> dict[str, str]:
    """`NAME=value` and `NAME<<DELIM ... DELIM` lines, as GitHub reads GITHUB_ENV and GITHUB_OUTPUT."""
    values: dict[str, str] = {}
    lines = iter(path.read_text().splitlines()) if path.exists() else iter(())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            body = []
            for body_line in lines:
                if body_line == delimiter:
                    break
                body.append(body_line)
            values[name] = "\n".join(body)
        elif "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
    path.write_text("")
    return values


class JobRunner:
    def __init__(
        self,
        repo: Path,
        contexts: Mapping[str, Any],
        *,
        env: Mapping[str, str] | None = None,
        step_timeout: float = 1800,
    ) -> None:
        self.repo = repo
        self.contexts = {"runner": {"os": "Linux", "temp": ""}, **contexts}
        self.step_timeout = step_timeout
        self.work = repo.parent / f"{repo.name}-runner"
        self.work.mkdir(exist_ok=True)
        bin_dir = self.work / "bin"
        bin_dir.mkdir(exist_ok=True)
        sudo = bin_dir / "sudo"
        sudo.write_text(_SUDO)
        sudo.chmod(0o755)
        self.files = {
            name: self.work / name.lower() for name in ("GITHUB_ENV", "GITHUB_OUTPUT", "GITHUB_PATH")
        }
        self.summary = self.work / "step_summary.md"
        self.env = {
            **(env if env is not None else os.environ),
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(repo),
            "RUNNER_TEMP": str(self.work),
            "GITHUB_STEP_SUMMARY": str(self.summary),
            **{name: str(path) for name, path in self.files.items()},
        }
        self.env["PATH"] = f"{bin_dir}{os.pathsep}{self.env.get('PATH', '')}"

    # --- expressions ---------------------------------------------------------------------------------
    def _lookup(self, reference: str, scope: Mapping[str, Any]) -> Any:
        head, *rest = reference.split(".")
        if head not in scope:
            raise WorkflowError(f"the job reads `{reference}`, a context this run does not give")
        value: Any = scope[head]
        for key in rest:
            value = value.get(key, "") if isinstance(value, Mapping) else ""
        return value

    def evaluate(self, expression: str, scope: Mapping[str, Any]) -> Any:
        names: dict[str, Any] = {}

        def reference(match: re.Match[str]) -> str:
            name = f"_r{len(names)}"
            names[name] = self._lookup(match.group(1), scope)
            return name

        parts = re.split(r"('(?:[^']|'')*')", expression)
        for index in range(0, len(parts), 2):  # outside string literals
            code = _REFERENCE.sub(reference, parts[index])
            code = code.replace("||", " or ").replace("&&", " and ")
            parts[index] = re.sub(r"!(?!=)", " not ", code)
        python = "".join(parts)
        try:
            # A restricted translation of GitHub's expression syntax: no builtins, only the contexts.
            return eval(python, {"__builtins__": {}, "hashFiles": self._hash_files}, names)
        except Exception as error:
            raise WorkflowError(f"cannot evaluate `${{{{ {expression} }}}}`: {error}") from error

    def _hash_files(self, *patterns: str) -> str:
        digest = hashlib.sha256()
        for pattern in patterns:
            for path in sorted(self.repo.glob(pattern)):
                if path.is_file():
                    digest.update(path.read_bytes())
        return digest.hexdigest()

    def render(self, text: str, scope: Mapping[str, Any]) -> str:
        def value(match: re.Match[str]) -> str:
            result = self.evaluate(match.group(1), scope)
            if isinstance(result, bool):
                return "true" if result else "false"
            return "" if result is None else str(result)

        return _EXPRESSION.sub(value, text)

    def condition(self, text: Any, scope: Mapping[str, Any]) -> bool:
        if text is None:
            return True
        expression = str(text)
        found = _EXPRESSION.fullmatch(expression.strip())
        return bool(self.evaluate(found.group(1) if found else expression, scope))

    # --- steps ---------------------------------------------------------------------------------------
    def run_job(self, workflow: Path, job: str) -> JobResult:
        document = yaml.safe_load(workflow.read_text())
        definition = document["jobs"][job]
        result = JobResult()
        scope: dict[str, Any] = {**self.contexts, "steps": {}}
        base_env = {**document.get("env", {}), **definition.get("env", {})}
        env = {**self.env, **{k: self.render(str(v), scope) for k, v in base_env.items()}}
        try:
            self._run_steps(definition["steps"], scope, env, result, prefix="")
        finally:
            # GitHub's runner ends a job's leftover processes: a daemon a step started does not outlive it.
            stop_pantsd(self.repo)
        result.outputs = {
            step_id: dict(values["outputs"])
            for step_id, values in scope["steps"].items()
            if values["outputs"]
        }
        result.summary = self.summary.read_text() if self.summary.exists() else ""
        return result

    def _run_steps(
        self,
        steps: list[dict[str, Any]],
        scope: dict[str, Any],
        env: dict[str, str],
        result: JobResult,
        prefix: str,
    ) -> None:
        for index, step in enumerate(steps):
            if not result.ok:
                return
            name = prefix + str(step.get("name") or step.get("uses") or f"step {index}")
            if not self.condition(step.get("if"), scope):
                continue
            step_env = {**env, **{k: self.render(str(v), scope) for k, v in step.get("env", {}).items()}}
            if "uses" in step:
                self._uses(step, name, scope, env, result)
                continue
            command = self.render(str(step["run"]), scope)
            shell = step.get("shell")
            flags = ["--noprofile", "--norc", "-eo", "pipefail"] if shell == "bash" else ["-e"]
            if shell not in (None, "bash"):
                raise WorkflowError(f"{name}: shell {shell!r} is not bash")
            script = self.work / "step.sh"
            script.write_text(command)
            started = time.monotonic()
            try:
                completed = subprocess.run(
                    ["bash", *flags, str(script)],
                    cwd=self.repo,
                    env=step_env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                    timeout=self.step_timeout,
                )
                returncode, output = completed.returncode, completed.stdout
            except subprocess.TimeoutExpired as error:
                returncode, output = 124, f"{error.output or ''}\n(timed out after {self.step_timeout} s)"
            result.steps.append(StepResult(name, returncode, output, time.monotonic() - started))
            env.update(self._consume("GITHUB_ENV"))
            for directory in self._consume("GITHUB_PATH"):
                env["PATH"] = f"{directory}{os.pathsep}{env['PATH']}"
            outputs = self._consume("GITHUB_OUTPUT")
            if "id" in step:
                scope["steps"][step["id"]] = {"outputs": outputs}

    def _consume(self, name: str) -> dict[str, str]:
        path = self.files[name]
        if name == "GITHUB_PATH":
            lines = path.read_text().split() if path.exists() else []
            path.write_text("")
            return dict.fromkeys(lines, "")
        return _read_file_commands(path)

    def _uses(
        self, step: dict[str, Any], name: str, scope: dict[str, Any], env: dict[str, str], result: JobResult
    ) -> None:
        uses = str(step["uses"])
        if uses.startswith("./"):
            action = yaml.safe_load((self.repo / uses / "action.yaml").read_text())
            if action["runs"]["using"] != "composite":
                raise WorkflowError(f"{name}: {uses} is not a composite action")
            given = {k: self.render(str(v), scope) for k, v in (step.get("with") or {}).items()}
            inputs = {
                key: given.get(key, str(spec.get("default", "")))
                for key, spec in action.get("inputs", {}).items()
            }
            inner = {**scope, "inputs": inputs, "steps": {}}
            self._run_steps(action["runs"]["steps"], inner, env, result, prefix=f"{name} / ")
            return
        if uses.split("@")[0] not in STAND_INS:
            raise WorkflowError(f"{name}: no stand-in for the marketplace action {uses}")
        for value in (step.get("with") or {}).values():
            self.render(str(value), scope)  # every context it reads must exist
        if uses.split("@")[0] == "actions/setup-python":
            versions = self.render(str((step.get("with") or {}).get("python-version", "")), scope).split()
            env["PATH"] = f"{self._machine_pythons(name, versions)}{os.pathsep}{env['PATH']}"
        result.steps.append(StepResult(f"{name} (stood in for)", 0, "", 0.0))

    def _machine_pythons(self, name: str, versions: list[str]) -> Path:
        """A directory of ``python<X.Y>`` links to this machine's interpreters of the versions asked
        (setup-python puts them on the PATH; only the versioned names: the machine's ``python3`` stays)."""
        directory = self.work / "setup-python"
        directory.mkdir(exist_ok=True)
        for version in versions:
            found = find_python(version)
            if found is None:
                raise WorkflowError(f"{name}: CPython {version} is not installed on this machine")
            link = directory / f"python{version}"
            link.unlink(missing_ok=True)
            link.symlink_to(found)
        return directory
