"""Small helpers for the few paths whose speed is a stated target (docs/performance.md)."""

import gc
from contextlib import contextmanager


@contextmanager
def collections_paused():
    """Pause Python's cyclic garbage collector while a path builds thousands of short-lived,
    acyclic objects (the rows of a class). Collection is triggered by allocations. Each run walks
    the young objects, and every tenth run the older ones too. Nothing built here forms a cycle,
    so those runs find nothing: at 2,000 rows they took a third of counting a class's hours.
    Reference counting still frees everything as usual.

    The pause is process-wide. Only the caller that found collection on turns it back on, so a
    thread entering during another's pause does not end it early, and it is never left off."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
