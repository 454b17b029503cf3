"""Export a policy trained on ``robomotion/G1Tracking-v0`` as an mjlab-style ONNX file.

The file follows mjlab's exporter (``docs/envs.md``, "Policies in ONNX"), so mjlab-style deployment
runners and ``robomotion play`` run it unchanged:

* inputs ``obs`` float32 (1, S) (the raw observation: the observation normalisation, e.g. SB3's
  ``VecNormalize``, is part of the graph) and ``time_step`` float32 (1, 1) (the motion frame);
* outputs ``actions`` (1, N) (deterministic: the action mean) and the reference embedded at
  ``time_step`` (clamped to the clip): ``joint_pos``, ``joint_vel`` (1, N), ``body_pos_w`` (1, B, 3),
  ``body_quat_w`` (1, B, 4) wxyz, ``body_lin_vel_w``, ``body_ang_vel_w`` (1, B, 3), world frame, one
  frame per control step;
* metadata: ``run_path``, ``joint_names``, ``joint_stiffness``, ``joint_damping``,
  ``default_joint_pos``, ``command_names``, ``observation_names``, ``action_scale``,
  ``anchor_body_name``, ``body_names`` (comma-separated); opset 18.

::

    from robomotion.envs.tracking.export import export_onnx
    export_onnx(ppo_model, env, "policy.onnx", normalizer=vec_normalize)   # SB3 PPO + VecNormalize
    export_onnx(actor, env, "policy.onnx", obs_mean=mean, obs_std=std)    # any torch module obs -> actions

Only mjlab's observation layouts (``"mjlab"``, ``"mjlab-no-state-estimation"``) are exported: other
runners would not know ``robomotion-v0``'s terms.
"""

from __future__ import annotations

import warnings
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import torch
from robomotion.envs.tracking.env import G1TrackingEnv
from robomotion.envs.tracking.policy import REFERENCE_OUTPUTS

from robomotion.atomic import atomic_path
from robomotion.errors import FormatError

__all__ = ["OPSET", "export_onnx", "sb3_actor"]

#: ONNX opset of the export (mjlab's).
OPSET = 18


def sb3_actor(model: Any):
    """The deterministic actor of a stable-baselines3 ``ActorCriticPolicy`` (``PPO("MlpPolicy", ...)``):
    ``action_net(mlp_extractor.policy_net(obs))``, a torch module from observations to action means."""
    policy = getattr(model, "policy", model)
    try:
        layers = [policy.mlp_extractor.policy_net, policy.action_net]
    except AttributeError as exc:
        raise FormatError(f"not a stable-baselines3 actor-critic MLP policy ({exc})", field="policy") from None
    return torch.nn.Sequential(*layers)


def _numbers(values: np.ndarray) -> str:
    return ",".join(repr(float(value)) for value in np.asarray(values, dtype=np.float64))


def export_onnx(
    policy: Any,
    env: G1TrackingEnv,
    path: str | PathLike,
    *,
    normalizer: Any | None = None,
    obs_mean: np.ndarray | None = None,
    obs_std: np.ndarray | None = None,
    obs_clip: float | None = None,
    clip: int = 0,
    run_path: str = "robomotion",
) -> Path:
    """Write ``policy`` as an mjlab-style ONNX file (see the module docstring); atomic.

    Args:
        policy: a stable-baselines3 PPO model (or its policy) or any torch module mapping (1, S)
            normalised observations to (1, N) actions.
        env: the environment it was trained in (its unwrapped :class:`G1TrackingEnv` is used): the
            observation layout, control contract and the reference clip ``clip`` to embed.
        path: the ``.onnx`` file to write.
        normalizer: SB3 ``VecNormalize`` whose observation statistics are baked in:
            ``clip((obs - mean) / sqrt(var + eps), -clip_obs, clip_obs)``.
        obs_mean, obs_std, obs_clip: the same normalisation given directly (instead of ``normalizer``).
        clip: the library clip embedded as the reference.
        run_path: the ``run_path`` metadata (where the run came from).

    Returns:
        ``path``.
    """
    import onnx

    env = getattr(env, "unwrapped", env)
    config = env.config
    if config.observation not in ("mjlab", "mjlab-no-state-estimation"):
        raise FormatError(f"only mjlab's observation layouts export (this env uses '{config.observation}')",
                          field="observation")
    size = env.observation_layout.size
    actor = policy if isinstance(policy, torch.nn.Module) else sb3_actor(policy)
    if normalizer is not None:
        statistics = normalizer.obs_rms
        obs_mean = statistics.mean
        obs_std = np.sqrt(statistics.var + normalizer.epsilon)
        obs_clip = float(normalizer.clip_obs)
    mean = np.zeros(size) if obs_mean is None else np.asarray(obs_mean, dtype=np.float64).reshape(-1)
    std = np.ones(size) if obs_std is None else np.asarray(obs_std, dtype=np.float64).reshape(-1)
    if mean.shape != (size,) or std.shape != (size,):
        raise FormatError(f"observation statistics must have {size} values, got {mean.size} and {std.size}",
                          field="normalizer")
    reference = env.library.clips[clip]
    module = _ExportedPolicy(actor, mean, std, obs_clip, reference).eval()

    path = Path(path)
    example = (torch.zeros(1, size), torch.zeros(1, 1))
    with atomic_path(path) as tmp, torch.no_grad(), warnings.catch_warnings():
        # torch's TorchScript exporter (as mjlab's exporter uses); the dynamo one needs onnxscript.
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(module, example, str(tmp), input_names=["obs", "time_step"],
                          output_names=["actions", *REFERENCE_OUTPUTS], opset_version=OPSET, dynamo=False)
        model = onnx.load(str(tmp))
        robot = env.robot
        metadata = {
            "run_path": run_path,
            "joint_names": ",".join(robot.joint_names),
            "joint_stiffness": _numbers(env.model.actuator_gainprm[:, 0]),
            "joint_damping": _numbers(-env.model.actuator_biasprm[:, 2]),
            "default_joint_pos": _numbers(env.default_joint_pos),
            "command_names": "motion",
            "observation_names": ",".join(env.observation_layout.names),
            "action_scale": _numbers(env.action_scale),
            "anchor_body_name": robot.anchor_body,
            "body_names": ",".join(reference.body_names),
        }
        onnx.helper.set_model_props(model, metadata)
        onnx.checker.check_model(model)
        onnx.save(model, str(tmp))
    return path


class _ExportedPolicy(torch.nn.Module):
    """obs, time_step -> actions and the embedded reference at time_step (mjlab's exporter's graph)."""

    def __init__(self, actor, mean: np.ndarray, std: np.ndarray, obs_clip: float | None, reference) -> None:
        super().__init__()
        self.actor = actor
        self.obs_clip = obs_clip
        self.last_frame = reference.num_frames - 1
        as_tensor = lambda array: torch.as_tensor(np.asarray(array, dtype=np.float32))
        self.register_buffer("obs_mean", as_tensor(mean)[None])
        self.register_buffer("obs_std", as_tensor(std)[None])
        for name, table in zip(REFERENCE_OUTPUTS, (reference.joint_pos, reference.joint_vel, reference.body_pos,
                                                   reference.body_quat, reference.body_lin_vel,
                                                   reference.body_ang_vel)):
            self.register_buffer(f"reference_{name}", as_tensor(table))

    def forward(self, obs, time_step):
        normalised = (obs - self.obs_mean) / self.obs_std
        if self.obs_clip is not None:
            normalised = torch.clamp(normalised, -self.obs_clip, self.obs_clip)
        actions = self.actor(normalised)
        frame = torch.clamp(time_step, 0, self.last_frame).long().squeeze(-1)  # (1,)
        return (actions, *(getattr(self, f"reference_{name}")[frame] for name in REFERENCE_OUTPUTS))
