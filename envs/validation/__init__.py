"""Validation: can the G1 physically track a reference motion? (``robomotion validate``).

Kinematic checks on the reference (``checks_kinematic``), dynamics along it (``sweep``,
``contact_wrench``, ``checks_dynamic``), closed-loop rollouts (``rollout``, ``checks_rollout``), the
verdict and report (``api``, ``report``). The finding/verdict types are in :mod:`robomotion.findings`.
Importing this package does not import gymnasium.
"""

from __future__ import annotations

from robomotion.envs.validation.api import ValidationReport, validate
from robomotion.envs.validation.config import ValidationConfig

__all__ = ["validate", "ValidationReport", "ValidationConfig"]
