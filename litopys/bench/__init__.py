"""Benchmarks: `litopys bench` and its parts, each figure paired with a reference measured in the same run."""
