"""One pipeline imported: from the old directory to ``pipelines/<name>/``, staged, then moved in place."""

from __future__ import annotations

import ast
import shutil
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from pipeline_import.deployments import Converted, PrefectYamlConverter
from pipeline_import.dump_parameters import old_flow_defaults
from pipeline_import.import_check import check_imports
from pipeline_import.imported import Imported, UnusableInput
from pipeline_import.library import read_api, rewrite_library_imports
from pipeline_import.relaxations import relax
from pipeline_import.requirements import Requirements, pyproject_requirements
from pipeline_import.secrets_scan import review_secrets
from pipeline_import.sibling_imports import rewrite_sibling_imports
from pipeline_import.sources import copy_sources, format_sources, old_dockerfile_notes
from pipeline_import.templates import image_test, render_template, smoke_test
from pipeline_import.yaml_files import YamlFile, dump_yaml, read_yaml
from pipeline_platform.pools import load_pool_templates
from pipeline_platform.spec import validate_pipeline
from pipelines.common.naming import NamingError, PipelineName


@dataclass(frozen=True)
class Options:
    root: Path
    pool_map: Mapping[str, str]
    force: bool
    batch: frozenset[str] = frozenset()  # the pipelines of this run, for imports from one another


def import_pipeline(source: Path, options: Options, requirements: Requirements) -> Imported:
    started = time.perf_counter()
    imported = Imported(source=source, name=source.name)
    try:
        _import(source, options, requirements, imported)
    except UnusableInput as error:
        imported.error = str(error)
    except Exception as error:  # a bug of the importer must not stop the other inputs
        imported.error = (
            f"the importer failed on this input ({type(error).__name__}: {error}); please report it"
        )
    imported.seconds = time.perf_counter() - started
    return imported


def pipeline_name(source: Path, imported: Imported) -> PipelineName:
    name = source.name.strip().lower().replace("-", "_")
    try:
        pipeline = PipelineName.from_dir(name)
    except NamingError as error:
        raise UnusableInput(str(error)) from None
    if name != source.name:
        imported.changed(source.name, f"directory renamed to {name}")
    imported.name = name
    return pipeline


def detect_kind(source: Path, prefect_yaml: YamlFile) -> str:
    """``dump`` for the old dump flows (execute_query parameters or the dump template's import), else
    ``code``."""
    flow = source / "flow.py"
    if flow.is_file() and "pipelines_templates.dump_db" in flow.read_text(encoding="utf-8", errors="replace"):
        return "dump"
    return "dump" if "execute_query" in yaml.safe_dump(prefect_yaml.data) else "code"


def _import(source: Path, options: Options, requirements: Requirements, imported: Imported) -> None:
    if not source.is_dir():
        raise UnusableInput(f"{source} is not a directory")
    for required in ("prefect.yaml", "flow.py"):
        if not (source / required).is_file():
            raise UnusableInput(f"{required} is missing: every pipeline of the old layout has one")
    pipeline = pipeline_name(source, imported)
    target = options.root / "pipelines" / pipeline.dir_name
    if target.exists():
        if not options.force:
            raise UnusableInput(f"pipelines/{pipeline.dir_name} already exists: pass --force to replace it")
        imported.changed(f"pipelines/{pipeline.dir_name}", "replaced (--force)")
    old_yaml = read_yaml(source / "prefect.yaml")
    imported.kind = detect_kind(source, old_yaml)
    template = render_template(options.root, pipeline, imported.kind)
    try:
        templates_yaml = yaml.safe_load((template / "prefect.yaml").read_text())
        pools = load_pool_templates(options.root)
        converter = PrefectYamlConverter(
            old_yaml,
            imported,
            pipeline,
            pool_map=options.pool_map,
            pool_variables={
                name: list(pool["variables"].get("properties", {})) for name, pool in pools.items()
            },
            prefect_version=str(templates_yaml["prefect-version"]),
            flow_defaults=_flow_defaults(source, imported),
        )
        converted = converter.convert()
        requirements.read_old_workspace(source)
        if imported.kind == "dump":
            imported.changed(
                f"{source.name}/pyproject.toml",
                "requirements not imported: the generic dump needs none of them",
            )
        else:
            for requirement, where in pyproject_requirements(source, imported):
                requirements.consider(requirement, imported, where)
        staging = Path(tempfile.mkdtemp(prefix="import-pipeline-")) / pipeline.dir_name
        staging.mkdir()
        _write(source, staging, template, pipeline, converted, options.root, imported)
        check_imports(options.root, staging, pipeline, requirements, imported, options.batch)
    finally:
        shutil.rmtree(template.parent.parent, ignore_errors=True)
    if target.exists():
        shutil.rmtree(target)
    shutil.move(str(staging), target)
    shutil.rmtree(staging.parent, ignore_errors=True)
    review_secrets(options.root, target, imported)
    imported.problems = [str(problem) for problem in validate_pipeline(target, pools)]


def _write(
    source: Path,
    target: Path,
    template: Path,
    pipeline: PipelineName,
    converted: Converted,
    root: Path,
    imported: Imported,
) -> None:
    shutil.copy2(template / "Dockerfile", target / "Dockerfile")
    old_dockerfile_notes(source, imported)
    (target / "__init__.py").write_text("")
    globs: list[str] = []
    if imported.kind == "dump":
        shutil.copy2(template / "flow.py", target / "flow.py")
        queries = target / "queries"
        queries.mkdir()
        for name, sql in sorted(converted.queries.items()):
            (queries / f"{name}.sql").write_text(sql)
        skipped = sorted(
            path.name for path in source.glob("*.py") if path.name not in ("flow.py", "__init__.py")
        )
        imported.changed(
            f"pipelines/{pipeline.dir_name}/flow.py",
            "the generic dump's flow (pipelines/common/dump.py) replaces the old dump code",
        )
        if skipped:
            imported.changed(
                ", ".join(f"{source.name}/{name}" for name in skipped),
                "not copied: the generic dump replaces them",
            )
        globs = ["queries/*.sql"]
        function = pipeline.dir_name
    else:
        globs = copy_sources(source, target, imported)
        rewrite_sibling_imports(
            target, f"pipelines.{pipeline.dir_name}", f"pipelines/{pipeline.dir_name}", imported
        )
        rewrite_library_imports(target, f"pipelines/{pipeline.dir_name}", read_api(root), imported)
        format_sources(root, target, imported)
        relax(root, target, imported)
        function = _flow_function(converted) or _decorated_flow(target / "flow.py") or pipeline.dir_name
    (target / "BUILD").write_text(
        f"prefect_pipeline(resource_globs={globs!r})\n".replace("'", '"') if globs else "prefect_pipeline()\n"
    )
    if not (target / "image_test.py").exists():
        (target / "image_test.py").write_text(image_test(pipeline))
        imported.changed(f"pipelines/{pipeline.dir_name}/image_test.py", "the flow loads inside its image")
    if not (target / "flow_test.py").exists():
        (target / "flow_test.py").write_text(smoke_test(pipeline, function, sorted(converted.queries)))
        imported.changed(
            f"pipelines/{pipeline.dir_name}/flow_test.py",
            "a first test: the flow loads" + (" and its queries are read" if converted.queries else ""),
        )
    header = (
        f"# Deployments of {pipeline.dir_name}, imported from the old repository by "
        "tools/import_pipeline.py (docs/importar.md).\n"
    )
    (target / "prefect.yaml").write_text(header + dump_yaml(converted.config))


def _decorated_flow(path: Path) -> str | None:
    """The first function of ``flow.py`` decorated with ``@flow`` (a switched-off pipeline has no
    entrypoint)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for decorator in node.decorator_list:
                called = decorator.func if isinstance(decorator, ast.Call) else decorator
                name = called.attr if isinstance(called, ast.Attribute) else getattr(called, "id", "")
                if name == "flow":
                    return node.name
    return None


def _flow_function(converted: Converted) -> str | None:
    for deployment in converted.config["deployments"]:
        return str(deployment["entrypoint"]).rpartition(":")[2]
    return None


def _flow_defaults(source: Path, imported: Imported) -> dict[str, object]:
    """A dump's source and destination as the old flow's signature defaults them (one note naming them)."""
    if imported.kind != "dump":
        return {}
    defaults = old_flow_defaults(source / "flow.py")
    if defaults:
        imported.changed(
            f"{source.name}/flow.py",
            f"defaults of the old flow kept where the YAML sets none: {', '.join(sorted(defaults))}",
        )
    return defaults
