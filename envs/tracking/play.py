"""Play an ONNX tracking policy (mjlab / BeyondMimic export or ours) on CPU MuJoCo and measure it.

::

    from robomotion.envs import play
    result = play("B_Fence1.onnx")                                  # the motion embedded in the ONNX
    result = play("policy.onnx", motion="walk.csv", seconds=5, video="play.mp4", report="out/")
    result.survived, result.mean_body_error, result.to_dict()

The policy runs in :class:`~robomotion.envs.tracking.env.G1TrackingEnv` with mjlab's contract and
evaluation settings (start at the reference state of frame 0, no noise, no action clipping), the
observation layout named by the ONNX's ``observation_names``, and the ONNX's PD gains, default pose
and action scale on this project's G1 model (``models/unitree_g1/scene.xml``). It stops at the end
of the reference, after ``seconds``, or at a fall (mjlab's termination rules: anchor height or tilt,
end-effector height; see :mod:`robomotion.envs.tracking.terms`).

Measured (:class:`PlayResult`): survival time and the fall, world-frame position error of each
tracked body against the reference, torque use (|actuator force| / effort limit) and joint-range
use per joint, and the mean reward terms. With ``video``, an MP4 shows the reference (left) next to
the policy's rollout (right); with ``report``, a folder gets ``report.json`` and ``steps.csv``.

Units: metres, radians, seconds; z-up world.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
from robomotion.envs.tracking.config import TrackingConfig
from robomotion.envs.tracking.env import G1TrackingEnv
from robomotion.envs.tracking.motion_library import MotionLibrary, ReferenceClip, reference_clip
from robomotion.envs.tracking.policy import Policy
from robomotion.envs.tracking.sampler import SamplingConfig

from robomotion.atomic import write_text
from robomotion.errors import FormatError
from robomotion.motion import RobotMotion
from robomotion.robots import RobotSpec, get_robot
from robomotion.rotations import quat_apply, quat_conjugate

__all__ = ["PlayResult", "embedded_clip", "play"]

#: Effort fraction at or above which an actuator counts as saturated.
SATURATED = 0.99


@dataclass
class PlayResult:
    """What :func:`play` measured. Errors in metres, times in seconds, use fractions in [0, 1+].

    Attributes:
        policy, motion: the ONNX file and the reference (``"embedded"`` or a motion file).
        observation: the observation layout the policy reads.
        steps, seconds: control steps run and their duration.
        reference_seconds: the reference's duration (or ``seconds`` when shorter).
        survived: no fall before the end; fell_at: time of the fall (``None``); termination: the
            failed check (``None``).
        mean_body_error, max_body_error: mean over steps and bodies of the world-frame body position
            error, and the largest per-step mean; body_errors: per-body mean.
        torque_use_mean, torque_use_max: mean and max over steps of |force| / effort limit, per joint;
            saturated_fraction: fraction of steps with any actuator at >= 99 % of its limit.
        joint_range_use_max: per joint, the largest |q - mid| / half range (1 = at a limit).
        reward_terms: mean of each weighted reward term per step.
        wall_seconds: the whole call (loading, the embedded reference, the rollout; not the video);
            loop_seconds: the rollout alone.
        video: the video written, if any.
    """

    policy: str
    motion: str
    observation: str
    steps: int
    seconds: float
    reference_seconds: float
    survived: bool
    fell_at: float | None
    termination: str | None
    mean_body_error: float
    max_body_error: float
    body_errors: dict[str, float]
    torque_use_mean: dict[str, float]
    torque_use_max: dict[str, float]
    saturated_fraction: float
    joint_range_use_max: dict[str, float]
    reward_terms: dict[str, float]
    wall_seconds: float
    loop_seconds: float
    video: str | None = None
    per_step: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable summary (without the per-step arrays)."""
        out = asdict(self)
        out.pop("per_step")
        return out

    def summary(self) -> str:
        """A few human-readable lines."""
        ending = "survived the whole reference" if self.survived else f"FELL at {self.fell_at:.2f} s ({self.termination})"
        worst = max(self.body_errors, key=self.body_errors.get)
        torque = max(self.torque_use_max, key=self.torque_use_max.get)
        joint = max(self.joint_range_use_max, key=self.joint_range_use_max.get)
        loop = max(self.loop_seconds, 1e-9)
        lines = [
            (f"{Path(self.policy).name} on {self.motion} ({self.observation} observation): {ending}: "
             f"{self.steps} steps, {self.seconds:.2f} of {self.reference_seconds:.2f} s"),
            (f"tracked-body position error: mean {100 * self.mean_body_error:.1f} cm, max (per-step mean) "
             f"{100 * self.max_body_error:.1f} cm, worst body {worst} {100 * self.body_errors[worst]:.1f} cm"),
            (f"torque use: max {100 * self.torque_use_max[torque]:.0f} % of the limit ({torque}), "
             f"{100 * self.saturated_fraction:.1f} % of steps with a saturated actuator; joint range use: max "
             f"{100 * self.joint_range_use_max[joint]:.0f} % ({joint})"),
            (f"rollout {self.steps / loop:.0f} control steps/s ({self.seconds / loop:.0f}x real time); "
             f"{self.wall_seconds:.1f} s with loading"),
        ]
        return "\n".join(lines)


def embedded_clip(reference: dict[str, np.ndarray], body_names: tuple[str, ...], robot: RobotSpec, fps: float,
                  name: str = "embedded") -> ReferenceClip:
    """A :class:`ReferenceClip` of the reference embedded in an ONNX policy (:meth:`Policy.embedded_motion`,
    bodies ``body_names``, joints in ``robot``'s order).

    Root pose and velocity come from the embedded root body (``robot.root_body``), joints from
    ``joint_pos``/``joint_vel``; tracked bodies the ONNX carries keep its exact poses and velocities,
    the others come from forward kinematics.
    """
    names = list(body_names)
    if robot.root_body not in names:
        raise FormatError(f"the embedded reference lacks the root body '{robot.root_body}'", field="body_names")
    root = names.index(robot.root_body)
    root_pos, root_quat = reference["body_pos_w"][:, root], reference["body_quat_w"][:, root]
    joint_pos, joint_vel = reference["joint_pos"], reference["joint_vel"]
    motion = RobotMotion(robot=robot.name, fps=fps, root_pos=root_pos, root_quat=root_quat, joint_pos=joint_pos,
                         joint_names=robot.joint_names, metadata={"name": name})
    clip = reference_clip(motion, robot, fps, name=name)
    tables = {"body_pos": "body_pos_w", "body_quat": "body_quat_w", "body_lin_vel": "body_lin_vel_w",
              "body_ang_vel": "body_ang_vel_w"}
    bodies = {}
    for field_name, output in tables.items():
        values = getattr(clip, field_name).copy()
        for index, body in enumerate(clip.body_names):
            if body in names:
                values[:, index] = reference[output][:, names.index(body)]
        bodies[field_name] = np.ascontiguousarray(values)
    root_ang_vel_local = quat_apply(quat_conjugate(root_quat), reference["body_ang_vel_w"][:, root])
    qvel = np.concatenate([reference["body_lin_vel_w"][:, root], root_ang_vel_local, joint_vel], axis=1)
    qpos = np.concatenate([root_pos, root_quat, joint_pos], axis=1)
    return ReferenceClip(name=name, fps=float(fps), qpos=qpos, qvel=qvel, joint_pos=joint_pos.copy(),
                         joint_vel=joint_vel.copy(), body_names=clip.body_names, **bodies)


def _library(policy: Policy, motion: str | PathLike | RobotMotion | None, robot: RobotSpec,
             fps: float) -> tuple[MotionLibrary, str]:
    if motion is None:
        if not policy.has_reference:
            raise FormatError("the policy embeds no reference motion: pass a motion file", policy.path, "body_pos_w")
        clip = embedded_clip(policy.embedded_motion(), policy.metadata.body_names, robot, fps, name=policy.path.stem)
        return MotionLibrary((clip,), np.ones(1)), "embedded"
    label = "motion" if isinstance(motion, RobotMotion) else str(motion)
    return MotionLibrary.from_source(motion, robot, fps), label


def _progress(total: int, enabled: bool | None):
    from tqdm import tqdm

    return tqdm(total=total, desc="play", unit="step", disable=not enabled if enabled is not None else None,
                leave=False)


def play(
    policy: str | PathLike | Policy,
    motion: str | PathLike | RobotMotion | None = None,
    seconds: float | None = None,
    *,
    video: str | PathLike | None = None,
    report: str | PathLike | None = None,
    progress: bool | None = None,
    on_step: Callable[[G1TrackingEnv, dict], None] | None = None,
    config: TrackingConfig | None = None,
) -> PlayResult:
    """Run an ONNX tracking policy on CPU MuJoCo against its embedded reference or ``motion``.

    Args:
        policy: the ``.onnx`` file (or a loaded :class:`Policy`).
        motion: a robot motion file or :class:`RobotMotion` to track instead of the embedded one.
        seconds: stop after this many seconds (default: the whole reference).
        video: write an MP4 of the reference (left) next to the rollout (right).
        report: a folder to write ``report.json`` and ``steps.csv`` (per-step errors) into.
        progress: progress bar (``None``: only on a terminal).
        on_step: called after every step with the environment and the step's ``info``.
        config: the environment settings to start from (default :meth:`TrackingConfig.evaluation`:
            no noise); the policy's observation layout, a start at frame 0, truncation at the
            reference's end and unclipped actions are always applied on top.

    Returns:
        A :class:`PlayResult`.

    Raises:
        FormatError: missing or unknown metadata, a robot or observation this runner does not have,
            a motion of another robot.
    """
    started = time.perf_counter()
    policy = policy if isinstance(policy, Policy) else Policy(policy)
    robot = get_robot("g1")
    policy.metadata.check_robot(robot, policy.path)
    config = (config if config is not None else TrackingConfig.evaluation()).replace(
        observation=policy.observation, clip_end="truncate", action_clip=1e6,
        sampling=SamplingConfig(mode="start"),
    )
    library, motion_label = _library(policy, motion, robot, config.control_hz)
    clip = library.clips[0]
    steps = clip.num_frames - 1
    if seconds is not None:
        if seconds <= 0:
            raise FormatError(f"seconds must be positive, got {seconds}", field="seconds")
        steps = min(steps, round(seconds * config.control_hz))
    env = G1TrackingEnv(library, config=config.replace(episode_seconds=max(steps, 1) / config.control_hz))
    if env.observation_space.shape[0] != policy.observation_size:
        raise FormatError(f"the policy reads {policy.observation_size} observations, the {policy.observation} "
                          f"layout has {env.observation_space.shape[0]}", policy.path, "obs")
    meta = policy.metadata
    env.set_actuation(meta.joint_stiffness, meta.joint_damping, meta.default_joint_pos, meta.action_scale)
    observation, _ = env.reset(options={"clip": 0, "frame": 0})

    sim, robot_limits = env.sim, robot.effort_limits
    middle = robot.joint_limits.mean(axis=1)
    half = 0.5 * (robot.joint_limits[:, 1] - robot.joint_limits[:, 0])
    body_errors = np.zeros((steps, len(robot.tracked_bodies)))
    torque_use = np.zeros((steps, robot.num_joints))
    range_use = np.zeros((steps, robot.num_joints))
    qpos = np.zeros((steps + 1, env.model.nq))
    qpos[0] = env.data.qpos
    terms: dict[str, float] = {}
    termination, done = None, 0
    loop_started = time.perf_counter()
    with _progress(steps, progress) as bar:
        for step in range(steps):
            action = policy(observation, time_step=env.frame)
            observation, _, terminated, truncated, info = env.step(action)
            body_errors[step] = np.linalg.norm(sim.body_pos - clip.body_pos[env.frame], axis=1)
            torque_use[step] = np.abs(env.data.actuator_force) / robot_limits
            range_use[step] = np.abs(sim.joint_pos - middle) / half
            qpos[step + 1] = env.data.qpos
            for name, value in info["reward_terms"].items():
                terms[name] = terms.get(name, 0.0) + value
            done = step + 1
            bar.update()
            if on_step is not None:
                on_step(env, info)
            if terminated:
                termination = info["termination"]
                break
            if truncated:
                break
    loop_seconds = time.perf_counter() - loop_started
    env.close()
    body_errors, torque_use, range_use, qpos = body_errors[:done], torque_use[:done], range_use[:done], qpos[:done + 1]
    per_step_mean = body_errors.mean(axis=1) if done else np.zeros(1)
    joints, bodies = robot.joint_names, robot.tracked_bodies
    result = PlayResult(
        policy=str(policy.path),
        motion=motion_label,
        observation=policy.observation,
        steps=done,
        seconds=done * env.dt,
        reference_seconds=steps * env.dt,
        survived=termination is None,
        fell_at=None if termination is None else done * env.dt,
        termination=termination,
        mean_body_error=float(per_step_mean.mean()),
        max_body_error=float(per_step_mean.max()),
        body_errors={name: float(v) for name, v in zip(bodies, body_errors.mean(axis=0))},
        torque_use_mean={name: float(v) for name, v in zip(joints, torque_use.mean(axis=0))},
        torque_use_max={name: float(v) for name, v in zip(joints, torque_use.max(axis=0))},
        saturated_fraction=float(np.mean(np.any(torque_use >= SATURATED, axis=1))) if done else 0.0,
        joint_range_use_max={name: float(v) for name, v in zip(joints, range_use.max(axis=0))},
        reward_terms={name: value / max(done, 1) for name, value in terms.items()},
        wall_seconds=time.perf_counter() - started,
        loop_seconds=loop_seconds,
        per_step={"body_error": body_errors, "torque_use": torque_use, "qpos": qpos},
    )
    if video is not None:
        result.video = str(_write_video(clip, qpos, Path(video), env.dt, progress))
    if report is not None:
        _write_report(result, Path(report))
    return result


def _write_video(clip: ReferenceClip, qpos: np.ndarray, path: Path, dt: float, progress: bool | None) -> Path:
    """The reference (left) next to the rollout (right), at the control rate halved (25 fps)."""
    from robomotion.visual.render import render_video

    reference = clip.qpos[: len(qpos)]
    return render_video(reference, path, fps=0.5 / dt, side_by_side=qpos, source_fps=1.0 / dt,
                        titles=("reference", "policy"), contacts=False, progress=progress)


def _write_report(result: PlayResult, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    write_text(folder / "report.json", json.dumps(result.to_dict(), indent=2))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    errors = result.per_step["body_error"]
    writer.writerow(["step", "time_s", "mean_body_error_m", "max_body_error_m", "max_torque_use"])
    for step in range(result.steps):
        writer.writerow([step + 1, round((step + 1) * result.seconds / max(result.steps, 1), 4),
                         round(float(errors[step].mean()), 5), round(float(errors[step].max()), 5),
                         round(float(result.per_step["torque_use"][step].max()), 4)])
    write_text(folder / "steps.csv", buffer.getvalue())
