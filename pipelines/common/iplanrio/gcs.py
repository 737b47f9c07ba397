"""``pipelines_utils.gcs``: Google Cloud Storage clients and blob listings with the job's credentials."""

from __future__ import annotations

import os
from typing import Final

import google.cloud.storage as storage
from google.auth.credentials import AnonymousCredentials
from google.cloud.storage.blob import Blob

from pipelines.common.iplanrio.env import get_bd_credentials_from_env

# google-cloud-storage's own variable: a local GCS server (tests, local runs), reached without credentials.
STORAGE_EMULATOR_ENV: Final = "STORAGE_EMULATOR_HOST"


def get_gcs_client(mode: str = "staging") -> storage.Client:
    if os.environ.get(STORAGE_EMULATOR_ENV):
        return storage.Client(project="local", credentials=AnonymousCredentials())  # type: ignore[no-untyped-call]
    credentials = get_bd_credentials_from_env(mode=mode)
    return storage.Client(project=credentials.project_id, credentials=credentials)


def list_blobs_with_prefix(bucket_name: str, prefix: str, mode: str = "staging") -> list[Blob]:
    return list(get_gcs_client(mode=mode).list_blobs(bucket_name, prefix=prefix))


def delete_blobs_list(bucket_name: str, blobs: list[Blob], mode: str = "prod") -> None:
    get_gcs_client(mode=mode).bucket(bucket_name).delete_blobs(blobs)


def upload_file_to_bucket(
    bucket_name: str, file_path: str, destination_blob_name: str, mode: str = "prod"
) -> Blob:
    blob = get_gcs_client(mode=mode).bucket(bucket_name).blob(destination_blob_name)
    blob.upload_from_filename(file_path)
    return blob


def parse_blobs_to_partition_dict(blobs: list[Blob]) -> dict[str, list[str]]:
    """``{"ano_particao": ["2024", ...], ...}`` from the blobs' ``key=value`` folders."""
    partitions: dict[str, list[str]] = {}
    for blob in blobs:
        for folder in str(blob.name).split("/"):
            if "=" in folder:
                key, _, value = folder.partition("=")
                partitions.setdefault(key, []).append(value)
    return partitions


def parse_blobs_to_partition_list(blobs: list[Blob]) -> list[str]:
    """The ``data_particao`` values of the blobs, in order."""
    return parse_blobs_to_partition_dict(blobs).get("data_particao", [])
