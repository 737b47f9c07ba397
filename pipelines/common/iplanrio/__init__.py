"""The city's helper library (``iplanrio``), its API as the old pipelines call it, over pipelines/common.

``pipelines_utils.<module>`` of the old library is ``pipelines.common.iplanrio.<module>`` here; the importer
(tools/import_pipeline.py) rewrites the imports. docs/importar.md lists what is provided and what is not.
"""
