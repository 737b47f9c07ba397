"""A broken convention: the file (or directory) it is about, the line when known, and why, printed as
`path:line: reason`. The same type as the prefect.yaml validator's: the lint's output reads and sorts alike.
"""

from __future__ import annotations

from pipeline_platform.problems import Problem, sorted_problems

__all__ = ["Problem", "sorted_problems"]
