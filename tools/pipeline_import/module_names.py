"""Import names of distributions, where they differ from the distribution's name."""

from __future__ import annotations

from typing import Final

from packaging.utils import canonicalize_name

# Import name -> distribution, where they differ (the common cases of the city's pipelines).
MODULE_DISTRIBUTIONS: Final = {
    "yaml": "pyyaml",
    "bs4": "beautifulsoup4",
    "dateutil": "python-dateutil",
    "dotenv": "python-dotenv",
    "jwt": "pyjwt",
    "PIL": "pillow",
    "sklearn": "scikit-learn",
    "slugify": "python-slugify",
    "psycopg2": "psycopg2-binary",
    "docx": "python-docx",
    "magic": "python-magic",
    "cv2": "opencv-python",
    "google.cloud.storage": "google-cloud-storage",
    "google.cloud.bigquery": "google-cloud-bigquery",
    "google.cloud.speech": "google-cloud-speech",
    "google.oauth2": "google-auth",
    "google.auth": "google-auth",
    "google.api_core": "google-api-core",
    "git": "gitpython",
    "github": "pygithub",
    "discord": "discord-py",
    "dbt": "dbt-core",
    "prefect_dbt": "prefect-dbt",
    "ruamel": "ruamel-yaml",
    "langchain_google_cloud_sql_pg": "langchain-google-cloud-sql-pg",
    "googleapiclient": "google-api-python-client",
    "prefect_docker": "prefect-docker",
    "prefect_kubernetes": "prefect-kubernetes",
    "google.cloud.exceptions": "google-cloud-core",
}
# Import name -> other distributions that provide it too (builds of one project).
MODULE_ALTERNATIVES: Final = {
    "cv2": ("opencv-python-headless", "opencv-contrib-python", "opencv-contrib-python-headless"),
}


def distributions_of(module: str) -> set[str]:
    """The distributions that may provide ``module`` (its top-level name, canonicalized, included)."""
    top = module.split(".")[0]
    found: set[str] = {canonicalize_name(top)}
    for name, distribution in MODULE_DISTRIBUTIONS.items():
        if module == name or module.startswith(f"{name}.") or top == name:
            found.add(distribution)
    found.update(MODULE_ALTERNATIVES.get(top, ()))
    return found


def modules_of(distribution: str) -> list[str]:
    """The modules ``distribution`` provides per MODULE_DISTRIBUTIONS, for a ``module_mapping`` (Pants would
    otherwise guess ``discord_py`` for discord-py)."""
    name = canonicalize_name(distribution)
    return sorted(
        {module for module, owner in MODULE_DISTRIBUTIONS.items() if owner == name}
        | {module for module, owners in MODULE_ALTERNATIVES.items() if name in owners}
    )
