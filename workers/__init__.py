"""RQ entry points: the relay, the jobs, delivery, SLA timers, the reconciler and start-up.

Nothing here decides anything about a case: a job turns its input into one call on the
composition root (``dispatch.bootstrap``), and the loops only move work between the event
log and Redis. ``workers`` imports ``dispatch``; ``dispatch`` never imports ``workers``.
"""
