"""Worlds the tests run in: throwaway databases, case histories written into the log, the
routing pipeline with its own database and Redis, and HTTP scenes.

Imported as ``worlds.<module>`` (pytest puts ``tests/`` on ``sys.path``).
"""
