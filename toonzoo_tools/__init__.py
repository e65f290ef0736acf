"""Tools beside the serving path: the benchmark (``python -m toonzoo_tools.bench``), the stress run, synthetic drawings.

Not installed with the package: run from a checkout. Nothing in ``bot`` or ``classifier`` imports it
(the import-linter contracts in pyproject.toml say so).
"""
