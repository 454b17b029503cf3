"""Tracking: the Gymnasium imitation environment ``robomotion/G1Tracking-v0`` (BeyondMimic-style).

``env`` (the environment), ``config`` (its dataclass config), ``terms`` (reward and termination
terms), ``kernel`` (the compiled per-step evaluation), ``sim`` (the MuJoCo simulation and PD control),
``sampler`` (adaptive start sampling), ``motion_library`` (reference clips), ``observations``,
``reset_noise``; ONNX policies: ``policy`` (an mjlab-style ONNX file on onnxruntime), ``play`` (run
and measure one, ``robomotion play``), ``export`` (write one from a trained policy).
"""

from __future__ import annotations

from robomotion.envs.tracking.config import TrackingConfig
from robomotion.envs.tracking.env import G1TrackingEnv
from robomotion.envs.tracking.motion_library import MotionLibrary

__all__ = ["G1TrackingEnv", "TrackingConfig", "MotionLibrary"]
