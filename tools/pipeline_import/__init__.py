"""The importer of pipelines from the city's old repository layout (docs/importar.md).

Its entry point is tools/import_pipeline.py (``cli.main``); ``importer`` imports one directory.
"""
