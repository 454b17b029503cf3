"""Shipped data: robot models (MJCF), skeleton definitions and generator weights.

Installed as the package ``robomotion.models``; locate files with
:func:`robomotion.resources.model_path`.
"""
