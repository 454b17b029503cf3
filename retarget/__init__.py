"""Human motion to robot joint trajectories by inverse kinematics (installed as ``robomotion.retarget``).

::

    from robomotion.retarget import retarget, retarget_with_report
    g1_motion = retarget(human_motion, robot="g1")
    result = retarget_with_report(human_motion)      # + result.quality (MuJoCo-measured)

See ``docs/retargeting.md`` for the method, the mapping files and the measured numbers.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "retarget": "robomotion.retarget.api",
    "retarget_with_report": "robomotion.retarget.api",
    "RetargetResult": "robomotion.retarget.api",
    "RetargetConfig": "robomotion.retarget.config",
    "RetargetQuality": "robomotion.retarget.quality",
    "evaluate_retarget": "robomotion.retarget.quality",
    "ContactDetection": "robomotion.foot_contacts",
    "detect_foot_contacts": "robomotion.foot_contacts",
    "Mapping": "robomotion.retarget.mapping",
    "list_mappings": "robomotion.retarget.mapping",
    "load_mapping": "robomotion.retarget.mapping",
    "mapping_for_skeleton": "robomotion.retarget.mapping",
    "retarget_files": "robomotion.retarget.batch",
    "BatchSummary": "robomotion.retarget.batch",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'robomotion.retarget' has no attribute '{name}'")
