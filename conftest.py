"""Fixtures shared by the whole repository's tests."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from repo_testing.ci import skip_or_fail

# Before anything imports Prefect: no telemetry, and no writes to the developer's ~/.prefect.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
if "PREFECT_HOME" not in os.environ:
    os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="prefect-home-")

POSTGRES_URL_ENV = "PIPELINES_TEST_POSTGRES_URL"
MARIADB_URL_ENV = "PIPELINES_TEST_MARIADB_URL"
GCS_URL_ENV = "PIPELINES_TEST_GCS_URL"


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """A temporary Prefect server and database for the session (flow tests request it)."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    # Without heartbeats a flow run ends sooner: it does not wait for the heartbeat thread's next step.
    with (
        prefect_test_harness(server_startup_timeout=120),
        temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}),
    ):
        yield


@pytest.fixture
def lake_uri(tmp_path: Path) -> str:
    """A local lake in the test's temporary directory."""
    return str(tmp_path / "lake")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite database file (created on first connection) in the test's temporary directory."""
    return f"sqlite:///{tmp_path / 'source.sqlite'}"


def _server_url(variable: str, server: str, script: str) -> str:
    """A test server's URL from ``variable``; skips without one, except in CI where it fails."""
    url = os.environ.get(variable)
    if not url:
        skip_or_fail(
            f"no {server} for this test: {variable} is not set "
            f"(run build-support/ci/{script} and export the {variable} it prints)"
        )
    return url


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The test PostgreSQL server's SQLAlchemy URL; skips without one, except in CI where it fails."""
    return _server_url(POSTGRES_URL_ENV, "PostgreSQL", "start-postgres.sh")


@pytest.fixture(scope="session")
def mariadb_url() -> str:
    """The test MariaDB server's SQLAlchemy URL; skips without one, except in CI where it fails."""
    return _server_url(MARIADB_URL_ENV, "MariaDB", "start-mariadb.sh")


@pytest.fixture(scope="session")
def gcs_url() -> str:
    """The test GCS JSON API server (``http://127.0.0.1:<port>``, bucket ``lake``); skips without one, except
    in CI where it fails."""
    return _server_url(GCS_URL_ENV, "GCS API server", "start-gcs.sh")


@pytest.fixture
def postgres_schema_url(postgres_url: str) -> Iterator[str]:
    """A URL whose ``search_path`` is a fresh schema, dropped after the test (unqualified tables go there)."""
    import sqlalchemy as sa

    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_url)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = sa.make_url(postgres_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def mariadb_database_url(mariadb_url: str) -> Iterator[str]:
    """A URL of a fresh MariaDB database ``<database>_test_<id>``, dropped after the test."""
    import sqlalchemy as sa

    base = sa.make_url(mariadb_url)
    database = f"{base.database}_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    with admin.begin() as connection:
        connection.execute(sa.text(f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4"))
    try:
        yield base.set(database=database).render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f"DROP DATABASE `{database}`"))
        admin.dispose()
