# Base image of every pipeline image (Pants target //:base).
#
# OS image, chosen with the build arg OS_IMAGE:
#   * default, production/CI with registry access: the official
#     python:3.13-slim-trixie (CPython 3.13 on Debian 13 "trixie"), the city's interpreter.
#   * offline machines (no Docker Hub): a local tag built from Debian packages by
#     build-support/docker/build-offline-os-image.sh (default tag
#     rio-pipelines/os:trixie-python3.13, Debian's python3 3.13 on trixie),
#     passed as --build-arg OS_IMAGE=<tag>.
# Both put `python3` (3.13) on the PATH; nothing below depends on which one is used.
# Give OS_IMAGE an explicit tag (Pants parses it). The PEX is resolved for CPython 3.13
# (pants.toml interpreter_constraints), whatever its patch release in the image.
#
# Python packages are NOT pip-installed here (containers cannot reach PyPI):
# the build context must contain `base-deps.pex`, a packed-layout venv PEX built
# on the host by Pants (pex_binary `//:base-deps`), with Prefect 3 and the
# database drivers (psycopg[binary], pymysql, pymssql, oracledb thin mode).
# No secrets are baked in: credentials come from the environment at run time.
#
# Reproducible: every layer is made in the `layers` stage by build-support/docker/image_layers.py (file
# times 0, owners and modes fixed, hash-based .pyc) and copied with `COPY --from=layers <dir>/ /`, so the
# same pins give the same layer digests on any engine: a rebuilt base is pushed and stored once.
ARG OS_IMAGE=python:3.13-slim-trixie

# --- Stage 1: the layers (the PEX and this stage stay out of the image).
FROM $OS_IMAGE AS layers
COPY base-deps.pex /tmp/base-deps.pex
COPY build-support/docker/image_layers.py /tmp/image_layers.py
RUN python3 /tmp/image_layers.py base /tmp/base-deps.pex /layers
# What this stage leaves on the engine is needed by no later step: the deploy deletes it on a CI runner
# (tools/pipeline_platform/images.py BUILD_STAGE_LABEL). Labelled last, with this build's tag: the steps
# above stay cached and shared, and a deploy deletes its own build's leftovers only.
ARG IMAGE_TAG
LABEL org.rio-pipelines.build-stage="base-${IMAGE_TAG}"

# --- Stage 2: the base image.
FROM $OS_IMAGE

LABEL org.opencontainers.image.title="rio-pipelines base" \
      org.opencontainers.image.description="CPython 3.13 on Debian trixie, Prefect 3 and database drivers (PostgreSQL, MySQL/MariaDB, SQL Server, Oracle thin)"

# Non-root runtime user `prefect` (uid/gid 1000; numeric in USER so that Kubernetes' runAsNonRoot can verify
# it) with /opt/prefect as its writable working directory and its home holding PREFECT_HOME (~/.prefect).
COPY --from=layers /layers/users/ /
# The layer tool pipeline images build with (image_layers.py deps ... and srcs ...).
COPY --from=layers /layers/tools/ /
# Owned by root: the runtime user can read and run it, not modify it.
COPY --from=layers /layers/venv/ /

ENV VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    LANG=C.UTF-8 \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DO_NOT_TRACK=1 \
    PREFECT_SERVER_ANALYTICS_ENABLED=false

WORKDIR /opt/prefect
USER 1000:1000

CMD ["prefect", "version"]
