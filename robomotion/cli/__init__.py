"""The ``robomotion`` command line: one sub-command module per stage.

Each module in this package defines ``register(subparsers)``, which adds its sub-parser and
sets ``func`` (called with the parsed arguments, returning an exit code). Modules import their
heavy dependencies inside ``func`` so that ``robomotion --help`` stays fast.
"""
