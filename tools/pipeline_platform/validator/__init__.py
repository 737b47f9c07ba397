"""The prefect.yaml validator's rules, one module per group; pipeline_platform/spec.py runs them."""
