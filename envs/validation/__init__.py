"""Validation: can the G1 physically track a reference motion? (``robomotion validate``).

FAIL means a tracking policy cannot learn the clip (physically impossible for the robot).
Kinematic checks on the reference (``checks_kinematic``), dynamics along it (``sweep``,
``contact_wrench``, ``checks_dynamic``), information-only rollouts (``rollout``, ``checks_rollout``),
the checks as data (``checks``), the verdict and report (``api``, ``report``), and the labelled
corpus it is calibrated on (``corpus``, ``corruptions``). The finding/verdict types are in :mod:`robomotion.findings`.
Importing this package does not import gymnasium.
"""

from __future__ import annotations

from robomotion.envs.validation.api import ValidationReport, validate
from robomotion.envs.validation.checks import DEFAULT_CHECKS, Check, CheckInputs
from robomotion.envs.validation.config import ValidationConfig

__all__ = ["DEFAULT_CHECKS", "Check", "CheckInputs", "ValidationConfig", "ValidationReport", "validate"]
