"""``dispatch demo``: 青禾区, a fictional district's 12345 centre, with a month of history.

``catalogue.yaml`` is the district; ``scenario`` draws what happens (seeded, no I/O);
``agenda`` plays it in time order on a clock the generator moves; ``centre`` and
``departments`` are the two sides of each case, acting through the real handlers;
``history`` writes the month; ``users`` signs the cast in.
"""
