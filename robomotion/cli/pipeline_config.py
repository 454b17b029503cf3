"""What ``robomotion generate --robot g1 --config FILE`` reads: the settings of the stages after generation.

::

    {"retarget": {"acceleration": 0.01, "contact_detection": {"max_speed": 0.3}},
     "validation": {"residual_fail": 0.2}}

Both sections are optional and partial; each holds fields of its stage's config
(:class:`~robomotion.retarget.config.RetargetConfig`,
:class:`~robomotion.envs.validation.config.ValidationConfig`). Imported only when the command runs
(both stages import MuJoCo and numba).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from robomotion.config import Config
from robomotion.envs.validation.config import ValidationConfig
from robomotion.retarget.config import RetargetConfig

__all__ = ["PipelineConfig"]


@dataclass(frozen=True)
class PipelineConfig(Config):
    """Settings of the retarget and validation stages that ``generate --robot`` runs on each sample."""

    retarget: RetargetConfig = field(default_factory=RetargetConfig)
    validation: ValidationConfig = field(default_factory=ValidationConfig)
