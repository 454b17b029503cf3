"""Settings of the tracking environment, in one frozen dataclass with BeyondMimic / mjlab defaults.

::

    from robomotion.envs.tracking.config import TrackingConfig
    config = TrackingConfig(episode_seconds=5.0)           # training defaults, shorter episodes
    config = TrackingConfig.evaluation()                     # start at frame 0, no noise
    env = gymnasium.make("robomotion/G1Tracking-v0", motion="walk.csv", config=config)

Any field can also be passed straight to ``gymnasium.make`` as a keyword (``episode_seconds=5.0``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from robomotion.envs.tracking.observations import ObservationNoise
from robomotion.envs.tracking.reset_noise import ResetNoise
from robomotion.envs.tracking.sampler import SamplingConfig
from robomotion.envs.tracking.terms import RewardConfig, TerminationConfig

__all__ = ["TrackingConfig"]


@dataclass(frozen=True)
class TrackingConfig:
    """Everything that shapes the tracking MDP.

    Attributes:
        control_hz: policy rate (50 Hz); references are resampled to it.
        physics_hz: MuJoCo rate (200 Hz); ``physics_hz / control_hz`` (the decimation) must be an integer.
        episode_seconds: time limit (truncation), seconds; episodes also end (truncated) at the clip's end.
        command_offsets: control steps ahead of now whose reference joint positions and velocities
            the policy sees (0 = now).
        action_scale: per-joint action scale factor; target = default pose + ``action_scale *
            effort_limit / kp * action`` (BeyondMimic: 0.25).
        action_clip: actions are clipped to ``[-action_clip, action_clip]`` (the action space's bounds).
        reward: sigmas and weights of the reward terms.
        termination: failure thresholds.
        sampling: where episodes start (adaptive / uniform / start).
        observation_noise: uniform noise on policy observations, or ``None``.
        reset_noise: uniform noise on the initial state, or ``None``.
        privileged_obs: also return the critic's noise-free observation as ``info["privileged_obs"]``.
    """

    control_hz: float = 50.0
    physics_hz: float = 200.0
    episode_seconds: float = 10.0
    command_offsets: tuple[int, ...] = (0, 1, 5, 10)
    action_scale: float = 0.25
    action_clip: float = 10.0
    reward: RewardConfig = field(default_factory=RewardConfig)
    termination: TerminationConfig = field(default_factory=TerminationConfig)
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    observation_noise: ObservationNoise | None = field(default_factory=ObservationNoise)
    reset_noise: ResetNoise | None = field(default_factory=ResetNoise)
    privileged_obs: bool = False

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
        object.__setattr__(self, "command_offsets", tuple(int(k) for k in self.command_offsets))

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
        settings.update(overrides)
        return cls(**settings)

    def replace(self, **changes) -> TrackingConfig:
        """A copy with some fields changed."""
        return replace(self, **changes)
