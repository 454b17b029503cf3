"""Settings of the tracking environment, in one frozen dataclass with BeyondMimic / mjlab defaults.

::

    from robomotion.envs.tracking.config import TrackingConfig
    config = TrackingConfig(episode_seconds=5.0)           # training defaults, shorter episodes
    config = TrackingConfig.evaluation()                     # start at frame 0, no noise
    config = TrackingConfig.robomotion_v0()                  # this project's first MDP (334 observation)
    env = gymnasium.make("robomotion/G1Tracking-v0", motion="walk.csv", config=config)

Any field can also be passed straight to ``gymnasium.make`` as a keyword (``episode_seconds=5.0``); an
unknown keyword is a :class:`~robomotion.errors.FormatError` listing the valid ones. A
:class:`~robomotion.config.Config`: ``replace``, ``from_dict``/``from_json`` (nested sections such as
``{"reward": {"body_pos_weight": 2.0}}`` may be partial) and ``to_dict``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from robomotion.envs.tracking.observations import OBSERVATIONS, ObservationNoise
from robomotion.envs.tracking.reset_noise import ResetNoise
from robomotion.envs.tracking.sampler import SamplingConfig
from robomotion.envs.tracking.terms import RewardConfig, RewardTerm, TerminationConfig, TerminationTerm

from robomotion.config import Config
from robomotion.errors import FormatError
from robomotion.robots import RobotSpec

__all__ = ["DEFAULT_POSES", "KNEES_BENT", "TrackingConfig", "default_joint_pos"]

#: mjlab's G1 default pose ``KNEES_BENT`` (action offset and reset pose), rad, by joint name;
#: joints not listed are 0.
KNEES_BENT = {
    "left_hip_pitch_joint": -0.312, "right_hip_pitch_joint": -0.312,
    "left_knee_joint": 0.669, "right_knee_joint": 0.669,
    "left_ankle_pitch_joint": -0.363, "right_ankle_pitch_joint": -0.363,
    "left_shoulder_pitch_joint": 0.2, "right_shoulder_pitch_joint": 0.2,
    "left_shoulder_roll_joint": 0.2, "right_shoulder_roll_joint": -0.2,
    "left_elbow_joint": 0.6, "right_elbow_joint": 0.6,
}

#: Names of the default poses ``TrackingConfig.default_pose`` accepts.
DEFAULT_POSES = ("knees_bent", "home")


def default_joint_pos(robot: RobotSpec, pose: str) -> np.ndarray:
    """(N,) the named default pose in ``robot``'s joint order, rad: ``"knees_bent"`` (mjlab) or
    ``"home"`` (the model's home keyframe)."""
    if pose == "home":
        return np.array(robot.home_joint_pos, dtype=np.float64)
    if pose == "knees_bent":
        unknown = sorted(set(KNEES_BENT) - set(robot.joint_names))
        if unknown:
            raise FormatError(f"the knees_bent pose names joints robot '{robot.name}' lacks: {unknown}",
                              field="default_pose")
        return np.array([KNEES_BENT.get(name, 0.0) for name in robot.joint_names], dtype=np.float64)
    raise ValueError(f"default_pose must be one of {DEFAULT_POSES}, got {pose!r}")


@dataclass(frozen=True)
class TrackingConfig(Config):
    """Everything that shapes the tracking MDP.

    Attributes:
        control_hz: policy rate (50 Hz); references are resampled to it.
        physics_hz: MuJoCo rate (200 Hz); ``physics_hz / control_hz`` (the decimation) must be an integer.
        episode_seconds: time limit (truncation), seconds.
        observation: the observation layout: ``"mjlab"`` (mjlab's 160), ``"mjlab-no-state-estimation"``
            (154) or ``"robomotion-v0"`` (this project's first layout, 334); see
            :mod:`robomotion.envs.tracking.observations`.
        command_offsets: ``robomotion-v0`` only: control steps ahead of now whose reference joint
            positions and velocities the policy sees (0 = now); mjlab's layouts see the current frame.
        default_pose: the action offset and reset pose: ``"knees_bent"`` (mjlab) or ``"home"``.
        clamp_targets: clamp PD targets to the joint range (``robomotion-v0``); mjlab does not.
        clip_end: at the end of the reference clip ``"wrap"`` (mjlab: the robot is put in the
            reference state of a newly sampled start, the episode goes on) or ``"truncate"``.
        action_scale: per-joint action scale factor; target = default pose + ``action_scale *
            effort_limit / kp * action`` (BeyondMimic: 0.25).
        action_clip: actions are clipped to ``[-action_clip, action_clip]`` (the action space's
            bounds; mjlab does not clip, and 10 is far beyond what a policy outputs).
        reward: sigmas and weights of the reward terms.
        termination: failure thresholds.
        sampling: where episodes start (adaptive / uniform / start).
        observation_noise: uniform noise on policy observations, or ``None``.
        reset_noise: uniform noise on the initial state, or ``None``.
        privileged_obs: also return the critic's noise-free observation as ``info["privileged_obs"]``.
        rewards: extra reward terms (:class:`~robomotion.envs.tracking.terms.RewardTerm`), after the
            built-in ones.
        terminations: extra failure terminations (:class:`~robomotion.envs.tracking.terms.TerminationTerm`),
            checked after the built-in ones.
    """

    control_hz: float = 50.0
    physics_hz: float = 200.0
    episode_seconds: float = 10.0
    observation: str = "mjlab"
    command_offsets: tuple[int, ...] = (0, 1, 5, 10)
    default_pose: str = "knees_bent"
    clamp_targets: bool = False
    clip_end: Literal["wrap", "truncate"] = "wrap"
    action_scale: float = 0.25
    action_clip: float = 10.0
    reward: RewardConfig = field(default_factory=RewardConfig)
    termination: TerminationConfig = field(default_factory=TerminationConfig)
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    observation_noise: ObservationNoise | None = field(default_factory=ObservationNoise)
    reset_noise: ResetNoise | None = field(default_factory=ResetNoise)
    privileged_obs: bool = False
    rewards: tuple[RewardTerm, ...] = ()
    terminations: tuple[TerminationTerm, ...] = ()

    def __post_init__(self) -> None:
        ratio = self.physics_hz / self.control_hz
        if self.control_hz <= 0 or abs(ratio - round(ratio)) > 1e-9 or round(ratio) < 1:
            raise ValueError(
                f"physics_hz / control_hz must be a positive integer, got {self.physics_hz} / {self.control_hz}"
            )
        if self.episode_seconds <= 0:
            raise ValueError(f"episode_seconds must be positive, got {self.episode_seconds}")
        if not self.command_offsets or min(self.command_offsets) < 0:
            raise ValueError(f"command_offsets must be non-negative steps, got {self.command_offsets}")
        if self.action_clip <= 0 or self.action_scale <= 0:
            raise ValueError("action_clip and action_scale must be positive")
        if self.observation not in OBSERVATIONS:
            raise ValueError(f"observation must be one of {OBSERVATIONS}, got {self.observation!r}")
        if self.default_pose not in DEFAULT_POSES:
            raise ValueError(f"default_pose must be one of {DEFAULT_POSES}, got {self.default_pose!r}")
        if self.clip_end not in ("wrap", "truncate"):
            raise ValueError(f"clip_end must be 'wrap' or 'truncate', got {self.clip_end!r}")
        object.__setattr__(self, "command_offsets", tuple(int(k) for k in self.command_offsets))
        object.__setattr__(self, "rewards", tuple(self.rewards))
        object.__setattr__(self, "terminations", tuple(self.terminations))

    @property
    def decimation(self) -> int:
        """Physics steps per control step."""
        return int(round(self.physics_hz / self.control_hz))

    @property
    def max_episode_steps(self) -> int:
        """Control steps before the time-limit truncation."""
        return int(round(self.episode_seconds * self.control_hz))

    @classmethod
    def evaluation(cls, **overrides) -> TrackingConfig:
        """mjlab's "play" settings: start every episode at frame 0, no observation or reset noise."""
        settings = {"sampling": SamplingConfig(mode="start"), "observation_noise": None, "reset_noise": None}
        return cls(**settings).replace(**overrides)

    @classmethod
    def robomotion_v0(cls, **overrides) -> TrackingConfig:
        """This project's first MDP (before mjlab's contract became the default): the 334-element
        ``robomotion-v0`` observation, the home pose, PD targets clamped to the joint range, every
        self-contact counted at weight -0.1, truncation at the clip end."""
        settings = {
            "observation": "robomotion-v0",
            "default_pose": "home",
            "clamp_targets": True,
            "clip_end": "truncate",
            "reward": RewardConfig(self_collision_weight=-0.1, self_collision_force=None),
        }
        return cls(**settings).replace(**overrides)
