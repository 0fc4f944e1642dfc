"""Benchmarks: each figure of what ships beside a raw baseline of the same work, same run.

``dispatch bench`` runs them all (``bench.suite``); each module also runs alone as
``python -m bench.<name>``.
"""
