"""The platform behind CI/CD: affected pipelines, prefect.yaml checks, images, registration, local server."""
