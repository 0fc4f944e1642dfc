"""The ``dispatch`` command's sub-commands of the service side, one module per area.

The command itself (``[project.scripts]``) is assembled in one place, ``workers.cli``: it adds
``serve``, ``worker``, ``scheduler`` and ``demo``, which start workers, to these.
"""
