"""Fixtures for the routing pipeline: a ``World`` with its own database and Redis database."""

from worlds.routing import world as world
