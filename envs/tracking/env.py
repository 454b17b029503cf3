"""``robomotion/G1Tracking-v0``: the Unitree G1 imitates reference motions (BeyondMimic / mjlab tracking task).

::

    import gymnasium, robomotion.envs
    env = gymnasium.make("robomotion/G1Tracking-v0", motion="walk.csv")          # a file
    env = gymnasium.make("robomotion/G1Tracking-v0", motion=[m1, m2, m3], weights=[2, 1, 1])
    obs, info = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
    info["reward_terms"]        # each weighted reward term of this step

The MDP (see ``docs/envs.md`` for the full contract):

* **Simulation**: MuJoCo, PD position actuators with the model's gains, physics at ``physics_hz``
  (200 Hz), one action held for ``decimation`` (4) physics steps: control at 50 Hz; PD targets are
  not clamped to the joint range (mjlab).
* **Action** (29,): joint position offsets around the default pose (mjlab's ``KNEES_BENT``) in units
  of ``0.25 * effort_limit / kp`` per joint, clipped to ``[-action_clip, action_clip]``.
* **Observation** (float32): mjlab's 160-element actor observation by default (``observation=``
  ``"mjlab"``, ``"mjlab-no-state-estimation"`` or ``"robomotion-v0"``); see
  :mod:`robomotion.envs.tracking.observations` for the segments. The critic's is in
  ``info["privileged_obs"]`` with ``privileged_obs=True``.
* **Reward**: :mod:`robomotion.envs.tracking.terms`; every term times its weight times ``dt``; extra
  terms declared as data in ``TrackingConfig.rewards``.
* **Termination**: anchor height, anchor tilt, end-effector height (failure); truncation at the time
  limit; at the clip end the motion wraps to a new start (mjlab) or the episode is truncated.
* **Reset**: reference state initialisation at a start sampled by :class:`~robomotion.envs.tracking.sampler.StartSampler`
  (failure-weighted 1 s bins), plus reset noise; ``reset(options={"clip": i, "frame": f})`` forces a start.

Frames and units: z-up world, metres, radians, seconds, quaternions ``(w, x, y, z)``.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gymnasium
import mujoco
import numpy as np
from gymnasium import spaces
from robomotion.envs.tracking.config import TrackingConfig, default_joint_pos
from robomotion.envs.tracking.kernel import (
    NO_FAILURE,
    ReferenceTables,
    RobotState,
    StepBuffers,
    TaskParams,
    apply_action,
    evaluate_step,
)
from robomotion.envs.tracking.motion_library import MotionLibrary, MotionSource, ReferenceClip
from robomotion.envs.tracking.observations import (
    ObservationLayout,
    command_frames,
    feature_layout,
    policy_layout,
    pose_in_frame,
    privileged_layout,
)
from robomotion.envs.tracking.reset_noise import perturb_state
from robomotion.envs.tracking.sampler import StartSampler
from robomotion.envs.tracking.sim import TrackingSimulation
from robomotion.envs.tracking.terms import REWARD_TERMS, TERMINATION_TERMS, soft_joint_limits

from robomotion.errors import FormatError, RobomotionError
from robomotion.robots import get_robot
from robomotion.rotations import quat_to_matrix

__all__ = ["G1TrackingEnv"]


@dataclass(frozen=True, eq=False)
class _ClipTables:
    """One clip and its per-frame reference quantities laid out for the step kernel."""

    clip: ReferenceClip
    tables: ReferenceTables

    @classmethod
    def build(cls, clip: ReferenceClip, anchor: int, end_effectors: np.ndarray, offsets: Sequence[int]):
        frames = np.arange(clip.num_frames)
        ahead = [np.minimum(frames + k, clip.num_frames - 1) for k in offsets]
        command = np.concatenate([part for rows in ahead for part in (clip.joint_pos[rows], clip.joint_vel[rows])],
                                 axis=1)
        anchor_pos = clip.body_pos[:, anchor]
        offsets_h = np.concatenate([clip.body_pos - anchor_pos[:, None], np.ones(clip.body_pos.shape[:2] + (1,))],
                                   axis=2)
        tables = {
            "command": command,
            "anchor_pos": anchor_pos,
            "anchor_quat": clip.body_quat[:, anchor],
            "anchor_mat": quat_to_matrix(clip.body_quat[:, anchor]),
            "body_offsets": offsets_h,
            "body_quat": clip.body_quat,
            "body_vel": np.concatenate([clip.body_lin_vel, clip.body_ang_vel], axis=1),
            "end_effector_z": clip.body_pos[:, end_effectors, 2],
        }
        # C order, so that one frame's rows are contiguous; one dtype, so the kernel compiles once.
        return cls(clip, ReferenceTables(**{name: np.ascontiguousarray(table, dtype=np.float64)
                                            for name, table in tables.items()}))


def _add_markers(scene: mujoco.MjvScene, positions: np.ndarray, radius: float = 0.035) -> None:
    """Append translucent orange spheres at world ``positions`` (B, 3) to a rendered scene."""
    identity = np.eye(3).ravel()
    rgba = np.array([1.0, 0.55, 0.1, 0.6], dtype=np.float32)
    size = np.array([radius, 0.0, 0.0])
    for position in positions[: scene.maxgeom - scene.ngeom]:
        mujoco.mjv_initGeom(scene.geoms[scene.ngeom], mujoco.mjtGeom.mjGEOM_SPHERE, size, position, identity, rgba)
        scene.ngeom += 1


def _has_display() -> bool:
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


class G1TrackingEnv(gymnasium.Env[np.ndarray, np.ndarray]):
    """Unitree G1 motion-tracking environment (Gymnasium API).

    Args:
        motion: a motion file (any format :func:`robomotion.formats.load_motion` reads), a
            :class:`~robomotion.motion.RobotMotion`, a list of them, or a prebuilt
            :class:`~robomotion.envs.tracking.motion_library.MotionLibrary` (at ``config.control_hz``).
        weights: optional per-clip sampling weights for a list of motions (default: equal).
        config: MDP settings (default :class:`TrackingConfig`: BeyondMimic training settings).
        render_mode: ``None``, ``"rgb_array"`` (offscreen frames) or ``"human"`` (interactive
            MuJoCo viewer; needs a display).
        width, height: ``rgb_array`` frame size in pixels.
        **overrides: any :class:`TrackingConfig` field, e.g. ``episode_seconds=5.0`` (an unknown name is a
            :class:`~robomotion.errors.FormatError` listing the valid ones).

    Attributes:
        library: the reference clips and their sampling weights.
        sampler: the adaptive start sampler (its failure statistics persist across episodes).
        sim: the MuJoCo model, data and state views (:class:`TrackingSimulation`).
        observation_layout, privileged_layout: the segments of the observations (the actor's and
            the critic's); feature_layout: the kernel's feature vector they are gathered from.
    """

    metadata = {"render_modes": ["human", "rgb_array"], "render_fps": 50}

    def __init__(
        self,
        motion: MotionSource | MotionLibrary,
        weights: Sequence[float] | None = None,
        config: TrackingConfig | None = None,
        render_mode: str | None = None,
        width: int = 640,
        height: int = 480,
        **overrides: Any,
    ):
        config = (config or TrackingConfig()).replace(**overrides)
        if render_mode not in (None, *self.metadata["render_modes"]):
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']} or None, got {render_mode!r}")
        if render_mode == "human" and not _has_display():
            raise RobomotionError("render_mode='human' needs a display (none found); use render_mode='rgb_array'")
        self.config = config
        self.render_mode = render_mode
        self.width, self.height = int(width), int(height)
        self.metadata = {**self.metadata, "render_fps": int(round(config.control_hz))}
        self.dt = 1.0 / config.control_hz
        self.robot = robot = get_robot("g1")
        self.library = self._build_library(motion, weights)
        self.sim = sim = TrackingSimulation(robot, config.physics_hz, config.decimation, config.clamp_targets,
                                            config.reward.self_collision_force)

        tracked = list(robot.tracked_bodies)
        self._anchor = tracked.index(robot.anchor_body)
        self._end_effectors = np.array([tracked.index(name) for name in (*robot.foot_bodies, *robot.hand_bodies)])
        self._default_joint_pos = default_joint_pos(robot, config.default_pose)
        self._action_scale = config.action_scale * robot.effort_limits / robot.kp
        self._soft_middle, self._soft_half = soft_joint_limits(robot.joint_limits, config.reward.soft_limit_factor)
        self._soft_bounds = (self._soft_middle - self._soft_half, self._soft_middle + self._soft_half)
        self._action_clip = float(config.action_clip)
        self._max_episode_steps = config.max_episode_steps
        self._privileged_obs = config.privileged_obs
        self._wrap = config.clip_end == "wrap"
        self._extra_rewards = config.rewards
        self._extra_terminations = config.terminations
        clashes = {term.name for term in config.rewards} & set(REWARD_TERMS)
        if clashes:
            raise ValueError(f"reward term names clash with built-in terms: {sorted(clashes)}")
        self._reward_names = REWARD_TERMS + tuple(term.name for term in config.rewards)
        frames = command_frames(config.observation, config.command_offsets)
        self._tables = [_ClipTables.build(clip, self._anchor, self._end_effectors, frames)
                        for clip in self.library.clips]
        self.sampler = StartSampler(
            [clip.num_frames for clip in self.library.clips], self.library.fps, self.library.weights, config.sampling
        )

        num_joints = robot.num_joints
        self.feature_layout: ObservationLayout = feature_layout(num_joints, len(frames))
        self.observation_layout: ObservationLayout = policy_layout(num_joints, frames, config.observation)
        self.privileged_layout: ObservationLayout = privileged_layout(num_joints, frames, len(tracked),
                                                                      config.observation)
        self._privileged_index = self.privileged_layout.gather_index(
            feature_layout(num_joints, len(frames), len(tracked)))
        self._noise_start, self._noise_half_widths = 0, np.zeros(0)
        if config.observation_noise is not None:
            self._noise_start, self._noise_half_widths = config.observation_noise.noisy_span(self.observation_layout)
        self._noise_rows = np.zeros((0, self._noise_half_widths.size), dtype=np.float32)
        self._noise_row = 0
        self._no_noise = self._noise_rows.reshape(-1)  # (0,): the kernel then adds nothing
        self.observation_space = spaces.Box(-np.inf, np.inf, (self.observation_layout.size,), np.float32)
        self.action_space = spaces.Box(-config.action_clip, config.action_clip, (num_joints,), np.float32)

        self._state = RobotState(sim.body_pos, sim.body_quat, sim.body_vel, sim.anchor_mat, sim.root_mat,
                                 sim.root_ang_vel, sim.base_lin_vel, sim.joint_pos, sim.joint_vel, sim.self_collision)
        first, second = np.zeros(num_joints), np.zeros(num_joints)
        terms, features = np.zeros(len(REWARD_TERMS)), np.zeros(self.feature_layout.size)
        # Two bundles with the action buffers swapped: a step flips between them instead of copying.
        self._buffers = StepBuffers(first, second, terms, features)
        self._swapped = StepBuffers(second, first, terms, features)
        self._params = self._task_params()
        self._ref = self._tables[0]
        self._clip_index = 0
        self._frame = 0
        self._last_frame = self._ref.clip.num_frames - 1
        self._steps = 0
        self._renderer: mujoco.Renderer | None = None
        self._viewer = None
        self._last_sync = 0.0

    def _task_params(self) -> TaskParams:
        config = self.config
        return TaskParams(
            anchor=self._anchor,
            end_effectors=self._end_effectors,
            default_joint_pos=self._default_joint_pos,
            neg_inv_sigma_sq=-1.0 / config.reward.sigmas() ** 2,
            weights_dt=np.array(config.reward.weights()) * self.dt,
            soft_middle=self._soft_middle,
            soft_half=self._soft_half,
            max_self_collisions=np.array([float(config.reward.max_self_collisions)]),
            thresholds=np.array(
                [np.inf if value is None else value for value in
                 (config.termination.anchor_height, config.termination.anchor_tilt,
                  config.termination.end_effector_height)], dtype=np.float64),
            obs_index=self.observation_layout.gather_index(self.feature_layout),
        )

    def set_actuation(
        self,
        stiffness: np.ndarray | None = None,
        damping: np.ndarray | None = None,
        default_joint_pos: np.ndarray | None = None,
        action_scale: np.ndarray | None = None,
    ) -> None:
        """Override the control contract (e.g. with a policy's ONNX metadata), each (N,) in the robot's
        joint order: actuator ``stiffness`` (kp, N*m/rad) and ``damping`` (kv, N*m*s/rad), the
        ``default_joint_pos`` (action offset and reset pose, rad), and the ``action_scale`` (rad per
        action unit). Takes effect at the next step."""
        shape = (self.robot.num_joints,)
        def checked(values: np.ndarray, name: str) -> np.ndarray:
            values = np.asarray(values, dtype=np.float64).reshape(-1)
            if values.shape != shape:
                raise ValueError(f"{name} must have {shape[0]} values, got {values.size}")
            return values
        if stiffness is not None or damping is not None:
            kp = checked(self.model.actuator_gainprm[:, 0] if stiffness is None else stiffness, "stiffness")
            kv = checked(-self.model.actuator_biasprm[:, 2] if damping is None else damping, "damping")
            self.sim.set_gains(kp, kv)
        if default_joint_pos is not None:
            self._default_joint_pos[:] = checked(default_joint_pos, "default_joint_pos")
        if action_scale is not None:
            self._action_scale = checked(action_scale, "action_scale")

    @property
    def default_joint_pos(self) -> np.ndarray:
        """(N,) the action offset and reset pose, rad (read-only view)."""
        view = self._default_joint_pos.view()
        view.flags.writeable = False
        return view

    @property
    def action_scale(self) -> np.ndarray:
        """(N,) rad of PD target per action unit."""
        return self._action_scale.copy()

    @property
    def action(self) -> np.ndarray:
        """(N,) this step's (clipped) action."""
        return self._buffers.action

    @property
    def last_action(self) -> np.ndarray:
        """(N,) the previous step's (clipped) action."""
        return self._buffers.last_action

    @property
    def frame(self) -> int:
        """The current reference frame index."""
        return self._frame

    @property
    def reference(self) -> ReferenceClip:
        """The current episode's reference clip (``reference.body_pos[env.frame]`` etc.)."""
        return self._ref.clip

    def _build_library(self, motion, weights) -> MotionLibrary:
        if isinstance(motion, MotionLibrary):
            if not np.isclose(motion.fps, self.config.control_hz):
                raise FormatError(
                    f"the motion library is at {motion.fps:g} fps, the environment controls at "
                    f"{self.config.control_hz:g} Hz",
                    field="motion",
                )
            return motion
        return MotionLibrary.from_source(motion, self.robot, self.config.control_hz, weights)

    @property
    def model(self) -> mujoco.MjModel:
        return self.sim.model

    @property
    def data(self) -> mujoco.MjData:
        return self.sim.data

    # ------------------------------------------------------------------ Gymnasium API
    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        """Start an episode in the reference state of a sampled frame, plus reset noise.

        Options:
            ``clip``, ``frame``: start at this clip and frame (instead of sampling one).
            ``qpos``, ``qvel``: start the robot in this MuJoCo state (no reset noise); ``qvel``
                defaults to zeros. The reference still starts at ``clip``/``frame``.
        """
        super().reset(seed=seed)
        if seed is not None:
            self._noise_row = len(self._noise_rows)  # draw fresh noise from the new seed
        options = options or {}
        if "clip" in options or "frame" in options:
            clip, frame = self._forced_start(options)
        else:
            clip, frame = self.sampler.sample(self.np_random)
        tables = self._tables[clip]
        qpos, qvel = tables.clip.qpos[frame], tables.clip.qvel[frame]
        noise = self.config.reset_noise
        if "qpos" in options:
            qpos = np.asarray(options["qpos"], dtype=np.float64).reshape(self.model.nq)
            qvel = np.asarray(options.get("qvel", np.zeros(self.model.nv)), dtype=np.float64).reshape(self.model.nv)
        elif noise is not None:
            qpos, qvel = perturb_state(qpos, qvel, noise, self.np_random, *self._soft_bounds)
        self._start_at(clip, frame, qpos, qvel)
        self._steps = 0
        self._buffers.action[:] = 0.0
        self._buffers.last_action[:] = 0.0
        info = {"clip": clip, "clip_name": self._ref.clip.name, "frame": frame}
        observation, _ = self._evaluate(self._next_noise())
        if self._privileged_obs:
            info["privileged_obs"] = self._privileged()
        if self.render_mode == "human":
            self.render()
        return observation, info

    def _start_at(self, clip: int, frame: int, qpos: np.ndarray, qvel: np.ndarray) -> None:
        """Put the robot in state (qpos, qvel) and the reference at ``frame`` of ``clip``."""
        tables = self._tables[clip]
        self.sim.reset_to(qpos, qvel, self._default_joint_pos)
        self._ref, self._clip_index, self._frame = tables, clip, frame
        self._last_frame = tables.clip.num_frames - 1

    def _wrap_to_new_start(self) -> None:
        """mjlab's clip end: sample a new start and put the robot in its reference state (plus reset
        noise); the episode and the actions go on."""
        clip, frame = self.sampler.sample(self.np_random)
        tables = self._tables[clip]
        qpos, qvel = tables.clip.qpos[frame], tables.clip.qvel[frame]
        if self.config.reset_noise is not None:
            qpos, qvel = perturb_state(qpos, qvel, self.config.reset_noise, self.np_random, *self._soft_bounds)
        self._start_at(clip, frame, qpos, qvel)

    def _forced_start(self, options: dict) -> tuple[int, int]:
        clip = int(options.get("clip", 0))
        if not 0 <= clip < self.library.num_clips:
            raise ValueError(f"options['clip'] must be in [0, {self.library.num_clips}), got {clip}")
        last = self.library.clips[clip].num_frames - 1
        frame = int(options.get("frame", 0))
        if not 0 <= frame < last:
            raise ValueError(f"options['frame'] must be in [0, {last}) for clip {clip} (one step must remain), "
                             f"got {frame}")
        return clip, frame

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict]:
        """Hold the PD targets of ``action`` for ``decimation`` physics steps; score against the next frame.

        At the clip's last frame the episode is truncated (``clip_end="truncate"``) or, mjlab's
        default, goes on from a newly sampled start (``clip_end="wrap"``: the reward of this step is
        scored against the last frame, the observation is that of the new start; ``info["wrapped"]``).
        """
        action = np.asarray(action)
        if action.shape != self._buffers.action.shape:
            raise ValueError(f"expected an action of shape {self._buffers.action.shape}, got {action.shape}")
        if np.isnan(action).any():  # ±inf and huge values are clipped to the action range; NaN has no meaning
            raise ValueError(f"action holds NaN at indices {np.flatnonzero(np.isnan(action)).tolist()}")
        self._buffers, self._swapped = self._swapped, self._buffers
        apply_action(action, self._action_clip, self._default_joint_pos, self._action_scale, self._buffers.action,
                     self.sim.ctrl)
        stable = self.sim.step()
        self._frame = min(self._frame + 1, self._last_frame)  # stepping past the end holds the last frame
        self._steps += 1
        self.sampler.step()

        observation, failed_check = self._evaluate(self._next_noise())
        failure = "unstable" if not stable else None if failed_check == NO_FAILURE else TERMINATION_TERMS[failed_check]
        terms = self._buffers.terms.tolist()
        if self._extra_rewards:
            terms += [term.weight * float(term.func(self, **term.params)) * self.dt for term in self._extra_rewards]
        if failure is None and self._extra_terminations:
            failure = next((term.name for term in self._extra_terminations if term.func(self, **term.params)), None)
        terminated = failure is not None
        info = {
            "clip": self._clip_index,
            "frame": self._frame,
            "reward_terms": dict(zip(self._reward_names, terms)),
            "termination": failure,
        }
        if terminated:
            self.sampler.record_failure(self._clip_index, self._frame)
        at_end = self._frame == self._last_frame
        if at_end and not terminated and self._wrap:
            self._wrap_to_new_start()
            observation, _ = self._evaluate(self._next_noise())
            info["wrapped"] = True
            info["clip"], info["frame"] = self._clip_index, self._frame
        truncated = not terminated and ((at_end and not self._wrap) or self._steps >= self._max_episode_steps)
        if self._privileged_obs:
            info["privileged_obs"] = self._privileged()
        if self.render_mode == "human":
            self.render()
        return observation, sum(terms), terminated, truncated, info

    def reward_terms(self) -> dict[str, float]:
        """Weighted reward terms of the current simulation state against the current reference frame.

        ``step`` reports the same values in ``info["reward_terms"]``; this scores any state, e.g. one
        given by ``reset(options={"frame": f, "qpos": ...})`` (the action-rate term uses the last two actions).
        """
        self._evaluate(self._no_noise)
        terms = self._buffers.terms.tolist()
        terms += [term.weight * float(term.func(self, **term.params)) * self.dt for term in self._extra_rewards]
        return dict(zip(self._reward_names, terms))

    # ------------------------------------------------------------------ per-step computations
    def _evaluate(self, noise: np.ndarray) -> tuple[np.ndarray, int]:
        """Score and observe the current state against the current reference frame, in one kernel call
        (:func:`~robomotion.envs.tracking.kernel.evaluate_step`).

        Writes the weighted built-in reward terms (``weight * term * dt``, :data:`REWARD_TERMS` order)
        into ``self._buffers.terms`` and the noise-free feature vector into ``self._buffers.features``.

        Args:
            noise: observation noise on the layout's noisy span (``self._no_noise``: none).

        Returns:
            The policy observation (float32, with ``noise``) and the index in :data:`TERMINATION_TERMS`
            of the first failed termination check, or ``NO_FAILURE``.
        """
        observation = np.empty(self.observation_layout.size, dtype=np.float32)
        failed_check = evaluate_step(self._frame, self._ref.tables, self._state, self._params, self._buffers, noise,
                                     self._noise_start, observation)
        return observation, failed_check

    def _next_noise(self, block: int = 64) -> np.ndarray:
        """One row of uniform observation noise on the noisy span (empty without noise); rows are drawn
        ``block`` at a time from ``np_random``."""
        if not self._noise_half_widths.size:
            return self._no_noise
        if self._noise_row == len(self._noise_rows):
            draws = self.np_random.uniform(-1.0, 1.0, (block, self._noise_half_widths.size))
            self._noise_rows = (draws * self._noise_half_widths).astype(np.float32)
            self._noise_row = 0
        self._noise_row += 1
        return self._noise_rows[self._noise_row - 1]

    def _privileged(self) -> np.ndarray:
        """The critic's noise-free observation (:func:`~robomotion.envs.tracking.observations.privileged_layout`),
        gathered from the last feature vector and the tracked bodies' poses in the robot anchor frame."""
        sim = self.sim
        body_pos, body_ori = pose_in_frame(sim.anchor_pos, sim.anchor_mat, sim.body_pos, quat_to_matrix(sim.body_quat))
        features = np.concatenate((self._buffers.features, body_pos.ravel(), body_ori.ravel()))
        return features[self._privileged_index].astype(np.float32)

    # ------------------------------------------------------------------ rendering
    def render(self) -> np.ndarray | None:
        """``rgb_array``: an (H, W, 3) uint8 frame from the tracking camera, with the reference bodies as
        orange spheres; ``human``: update the interactive viewer (paced to real time)."""
        if self.render_mode == "rgb_array":
            return self._render_frame()
        if self.render_mode == "human":
            self._sync_viewer()
        return None

    def _render_frame(self) -> np.ndarray:
        if self._renderer is None:
            try:
                self._renderer = mujoco.Renderer(self.model, height=self.height, width=self.width)
            except mujoco.FatalError as exc:
                raise RobomotionError(
                    f"offscreen rendering failed ({exc}); without a display set MUJOCO_GL=egl (or osmesa) "
                    "before mujoco is first imported"
                ) from exc
        renderer = self._renderer
        renderer.update_scene(self.data, camera="track")
        renderer.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = 0
        _add_markers(renderer.scene, self._ref.clip.body_pos[self._frame])
        return renderer.render()

    def _sync_viewer(self) -> None:
        if self._viewer is None:
            import mujoco.viewer

            self._viewer = mujoco.viewer.launch_passive(self.model, self.data)
        elapsed = time.perf_counter() - self._last_sync
        if elapsed < self.dt:
            time.sleep(self.dt - elapsed)
        self._viewer.sync()
        self._last_sync = time.perf_counter()

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
        if self._viewer is not None:
            self._viewer.close()
            self._viewer = None
