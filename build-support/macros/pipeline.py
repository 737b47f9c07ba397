# BUILD-file macros shared by every pipeline (loaded through [GLOBAL].build_file_prelude_globs).


def prefect_pipeline(resource_globs=(), **kwargs):
    """Everything Pants needs to know about one pipeline directory, from a one-line BUILD file.

    Targets (addresses relative to the pipeline directory):
      :src          the flow's Python sources, plus files matching `resource_globs` (e.g. ["queries/*.sql"])
      :tests        `*_test.py` beside the code (image_test.py gets the built image)
      :deployments  prefect.yaml; nothing depends on it, so editing it re-registers deployments without
                    rebuilding the image
      :pex          the flow and its dependencies, packed for a two-layer image install
      :image        docker image built from the pipeline's Dockerfile on top of //:base
    Keyword arguments are passed to the docker_image (e.g. extra `image_tags`).
    """
    name = build_file_dir().name
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
        name="image",
        repository=name.replace("_", "-"),
        dependencies=[":pex"],
        image_tags=["{build_args.IMAGE_TAG}"],
        **kwargs,
    )
