"""``python -m workers``: the same command line as ``dispatch``."""

from workers.cli import main

main()
