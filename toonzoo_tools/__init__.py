"""Tools beside the serving path: the benchmark (``toonzoo bench``), the stress run, synthetic drawings.

Nothing in ``bot`` or ``classifier`` imports this package at import time.
"""
