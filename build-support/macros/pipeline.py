# BUILD-file macros shared by every pipeline (loaded through [GLOBAL].build_file_prelude_globs).


def _standard_image_instructions(name):
    """The image recipe of every pipeline: //:base, plus the distributions its venv lacks, plus the sources.

    Both layers are made by image_layers.py inside the build (file times 0, fixed owners) and copied in with
    `COPY --from`, so unchanged dependencies give the same layer digest on any engine and a code change
    pushes only the sources layer.
    """
    return [
        "ARG BASE_IMAGE=//:base",
        "FROM $BASE_IMAGE AS layers",
        "USER root",
        f"COPY pipelines.{name}/pex.pex /tmp/pipeline.pex",
        # The OS image's python3: the tool moves the base venv aside while it installs the pipeline's deps.
        "RUN PATH=/usr/local/bin:/usr/bin:/bin python3 /opt/image-tools/image_layers.py pipeline "
        "/tmp/pipeline.pex /layers",
        "FROM $BASE_IMAGE",
        "COPY --from=layers /layers/deps/ /",
        "COPY --from=layers /layers/srcs/ /",
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
      :pex             the flow and its dependencies, packed for the image's two layers
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
    pex_binary(
        name="pex",
        entry_point="flow.py",
        dependencies=[":src", "3rdparty/python:image-interpreter-extras"],
        layout="packed",
        execution_mode="venv",
        include_tools=True,
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
