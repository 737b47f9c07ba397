# BUILD-file macros shared by every pipeline (loaded through [GLOBAL].build_file_prelude_globs).


def _standard_image_instructions(name):
    """The image recipe of every pipeline: //:base, plus the distributions its venv lacks, plus the sources.

    Both layers are made by image_layers.py inside the build (file times 0, fixed owners) and copied in with
    `COPY --from`, so unchanged dependencies give the same layer digest on any engine and a code change
    pushes only the sources layer.
    """
    # The OS image's python3 runs the tool: `deps` moves the base venv aside while it installs the deps.
    tool = "RUN PATH=/usr/local/bin:/usr/bin:/bin python3 /opt/image-tools/image_layers.py"
    return [
        "ARG BASE_IMAGE=//:base",
        # Its input (the deps pex) changes only with the requirements: a code change reuses this stage.
        "FROM $BASE_IMAGE AS deps",
        "USER root",
        f"COPY pipelines.{name}/deps-pex.pex /tmp/deps.pex",
        f"{tool} deps /tmp/deps.pex /layers",
        "FROM $BASE_IMAGE AS srcs",
        "USER root",
        f"COPY pipelines.{name}/pex.pex /tmp/pipeline.pex",
        f"{tool} srcs /tmp/pipeline.pex /layers",
        "FROM $BASE_IMAGE",
        "COPY --from=deps /layers/deps/ /",
        # Two consecutive `COPY --from` intermittently fail in the legacy builder with "failed to get layer
        # ...: layer does not exist" (moby/moby#37965); a RUN between them is the known workaround. It changes
        # no file, so the image gets no layer from it (only a history entry).
        "RUN true",
        "COPY --from=srcs /layers/srcs/ /",
        "ENV PYTHONPATH=/opt/prefect",
        f'CMD ["python", "-m", "pipelines.{name}.flow"]',
    ]


def prefect_pipeline(resource_globs=(), **kwargs):
    """Everything Pants needs to know about one pipeline directory, from a one-line BUILD file.

    Targets (addresses relative to the pipeline directory):
      :src             the flow's Python sources, plus files matching `resource_globs` (e.g. ["queries/*.sql"])
      :tests           `*_test.py` beside the code (image_test.py gets the built image)
      :deployments     prefect.yaml; nothing depends on it, so editing it re-registers deployments without
                       rebuilding the image
      :pex             the flow's sources and the shared library's, packed, no requirements (the image's
                       sources layer comes from it)
      :deps-pex        the requirements without the sources (the image's deps layer: unchanged by a code
                       change)
      :standard-image  the recipe every pipeline shares (above), built on //:base; never pushed
      :image           the pipeline's Dockerfile: `FROM` the standard image, plus the pipeline's own lines
    Keyword arguments are passed to the docker_image :image (e.g. extra `image_tags`).
    """
    name = build_file_dir().name
    repository = name.replace("_", "-")
    if resource_globs:
        resources(name="resources", sources=list(resource_globs))
    python_sources(name="src", dependencies=[":resources"] if resource_globs else [])
    python_tests(
        name="tests",
        sources=["*_test.py"],
        # image_test.py runs the flow inside the image, so Pants builds the image first.
        overrides={"image_test.py": {"runtime_package_dependencies": [":image"]}},
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
        name="standard-image",
        repository=f"{repository}-standard",
        source=None,
        instructions=_standard_image_instructions(name),
        dependencies=[":pex", ":deps-pex"],
        image_tags=["{build_args.IMAGE_TAG}"],
        skip_push=True,
    )
    docker_image(
        name="image",
        repository=repository,
        image_tags=["{build_args.IMAGE_TAG}"],
        **kwargs,
    )
