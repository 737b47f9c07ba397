# BUILD-file macros shared by every pipeline (loaded through [GLOBAL].build_file_prelude_globs).


# Build stages write the layers as root; the final stage keeps the base's numeric non-root USER, which hadolint
# does not see across stages.
_ROOT_STAGE = ("# hadolint ignore=DL3002,DL3066", "USER root")
_LAYER_TOOL = "RUN PATH=/usr/local/bin:/usr/bin:/bin python3 /opt/image-tools/image_layers.py"
# What the deps stage leaves on the engine is needed by no later step: the deploy deletes it on a CI runner
# (pipeline_platform/images.py BUILD_STAGE_LABEL). Labelled last, with this build's tag: the cached steps
# before it stay shared, and a deploy deletes its own build's leftovers only.
_BUILD_STAGE = ("ARG IMAGE_TAG", 'LABEL org.rio-pipelines.build-stage="deps-${IMAGE_TAG}"')


def _deps_build_arg(name):
    """The build arg naming the deps image a pipeline's standard image starts from (one per pipeline:
    Pants 2.17's build args are global, and the deploy passes a published deps image per pipeline)."""
    return "DEPS_IMAGE_" + name.upper()


def _deps_image_instructions(name):
    """The distributions the base venv lacks, as one layer on nothing (`FROM scratch`), from the deps pex.

    The layer is made by image_layers.py inside the build (file times 0, fixed owners), so unchanged
    requirements give the same digest on any engine. Its only inputs are the base's file system and the deps
    pex: a code change never rebuilds it, nor does a base change that leaves the base's layers (a label), and
    the deploy reuses a published one (pipeline_platform/published.py) instead of building it. Holding no base,
    it is copied onto whichever base the pipeline image is built on, where it gives the same layer digest.
    """
    return [
        "ARG BASE_IMAGE=//:base",
        "FROM $BASE_IMAGE AS deps",
        *_ROOT_STAGE,
        f"COPY pipelines.{name}/deps-pex.pex /tmp/deps.pex",
        # The OS image's python3 runs the tool: `deps` moves the base venv aside while it installs the deps.
        f"{_LAYER_TOOL} deps /tmp/deps.pex /layers",
        *_BUILD_STAGE,
        "FROM scratch",
        "COPY --from=deps /layers/deps/ /",
    ]


def _standard_image_instructions(name):
    """The image recipe of every pipeline: the base, its deps layer (from :deps-image) and its sources (one
    layer, from the srcs pex)."""
    deps = _deps_build_arg(name)
    return [
        "ARG BASE_IMAGE=//:base",
        f"ARG {deps}=:deps-image",
        f"FROM ${deps} AS deps",
        "FROM $BASE_IMAGE AS srcs",
        *_ROOT_STAGE,
        f"COPY pipelines.{name}/pex.pex /tmp/pipeline.pex",
        f"{_LAYER_TOOL} srcs /tmp/pipeline.pex /layers",
        "FROM $BASE_IMAGE",
        # The deps image is one layer on nothing (`FROM scratch`): its whole file system is that layer.
        "# hadolint ignore=DL3067",
        "COPY --from=deps / /",
        "COPY --from=srcs /layers/srcs/ /",
        "ENV PYTHONPATH=/opt/prefect",
        f'CMD ["python", "-m", "pipelines.{name}.flow"]',
    ]


def prefect_pipeline(resource_globs=(), **kwargs):
    """Everything Pants needs to know about one pipeline directory, from a one-line BUILD file.

    Targets (addresses relative to the pipeline directory):
      :src             the flow's Python sources, plus files matching `resource_globs` (e.g. ["queries/*.sql"]);
                       not the tests nor `testing.py` (test helpers: declare it as a python_test_utils)
      :tests           `*_test.py` beside the code (image_test.py gets the built image)
      :deployments     prefect.yaml; nothing depends on it, so editing it re-registers deployments without
                       rebuilding the image
      :pex             the flow's sources and the shared library's, packed, no requirements (the image's
                       sources layer comes from it)
      :deps-pex        the requirements without the sources (the image's deps layer: unchanged by a code
                       change)
      :deps-image      the requirements' layer alone, made on //:base (above); the deploy publishes it by
                       inputs
      :standard-image  the recipe every pipeline shares (above): //:base, the deps layer and the sources;
                       never pushed
      :image           the pipeline's Dockerfile: `FROM` the standard image, plus the pipeline's own lines
    Keyword arguments are passed to the docker_image :image (e.g. extra `image_tags`).
    """
    name = build_file_dir().name
    repository = name.replace("_", "-")
    if resource_globs:
        resources(name="resources", sources=list(resource_globs))
    # Runtime code only (it goes into the image): test helpers (`testing.py`, a python_test_utils in the
    # pipeline's BUILD) and tests stay out.
    python_sources(
        name="src",
        sources=["*.py", "!*_test.py", "!test_*.py", "!conftest.py", "!testing.py"],
        dependencies=[":resources"] if resource_globs else [],
    )
    python_tests(
        name="tests",
        sources=["*_test.py"],
        # image_test.py runs the flow inside the image, so Pants builds the image first.
        # Tagged e2e: a Docker build, run by the checks of the changes that affect this pipeline only.
        overrides={"image_test.py": {"runtime_package_dependencies": [":image"], "tags": ["e2e"]}},
    )
    file(name="deployments", source="prefect.yaml")
    pex_options = dict(
        entry_point="flow.py",
        dependencies=[":src", "3rdparty/python:image-interpreter-extras"],
        layout="packed",
        execution_mode="venv",
        include_tools=True,
    )
    # Split as in Pants's "deps pex + srcs pex" recipe: a code change rebuilds only the small sources pex,
    # and the deps pex's bytes change only with the requirements.
    pex_binary(name="pex", include_requirements=False, **pex_options)
    pex_binary(name="deps-pex", include_sources=False, **pex_options)
    docker_image(
        name="deps-image",
        repository=f"{repository}-deps",
        source=None,
        instructions=_deps_image_instructions(name),
        dependencies=[":deps-pex"],
        image_tags=["{build_args.IMAGE_TAG}"],
        # Published by the deploy under a tag naming its inputs (pipeline_platform/published.py); its layers
        # go up with :image.
        skip_push=True,
    )
    docker_image(
        name="standard-image",
        repository=f"{repository}-standard",
        source=None,
        instructions=_standard_image_instructions(name),
        dependencies=[":pex"],
        image_tags=["{build_args.IMAGE_TAG}"],
        skip_push=True,
    )
    docker_image(
        name="image",
        repository=repository,
        image_tags=["{build_args.IMAGE_TAG}"],
        **kwargs,
    )
