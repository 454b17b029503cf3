"""Closed-loop MuJoCo rollouts: can the G1's own PD actuators track the reference?

The robot starts in the reference's first state (pose and smoothed velocity). Every control
period (50 Hz by default; physics at the model's 200 Hz) its position actuators get the
reference joint angles with velocity and, optionally, torque feed-forward: with MuJoCo's
position actuator ``tau = kp (ctrl - q) - kd qdot`` the target
``ctrl = q_ref + (kd / kp) qdot_ref + tau_ref / kp`` gives
``tau = tau_ref + kp (q_ref - q) + kd (qdot_ref - qdot)``, clipped to the effort limits by the
actuator's force range (joint-range clipping of ``ctrl`` is switched off on this private model
copy so the feed-forward is not cut). ``tau_ref`` are the torques inverse dynamics says the
reference needs; without them the G1's soft 10 Hz gains sag under gravity (knees bend ~0.2 rad).

* Unassisted: nothing else acts on the robot; it has no balance feedback (a tracking policy
  would add that), so the fall time says how far open-loop tracking gets.
* Assisted: a spring-damper on the pelvis (generalised force on its free joint, i.e. a force at
  the pelvis origin and a torque) pulls it toward the reference pelvis pose; the force it exerts
  is the help the robot needs: about 0 for a physically consistent clip (a trajectory MuJoCo
  itself produced, a rigid ballistic flight), about one body weight for a clip that floats.

Frames: world z-up; forces in N (world frame), torques in N*m about the pelvis origin (pelvis frame).
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np
from robomotion.envs.validation.reference import Reference, prepare_reference

from robomotion.errors import FormatError
from robomotion.robots.kinematics import forward_kinematics
from robomotion.robots.spec import RobotSpec
from robomotion.rotations import quat_apply, quat_from_rotvec, quat_multiply

__all__ = ["PelvisAssist", "Rollout", "control_reference", "simulate_tracking"]

_UP = np.array([0.0, 0.0, 1.0])


@dataclass(frozen=True)
class PelvisAssist:
    """Gains of the stabilising spring-damper on the pelvis (N/m, N*s/m, N*m/rad, N*m*s/rad)."""

    stiffness: float
    damping: float
    rot_stiffness: float
    rot_damping: float


@dataclass(frozen=True, eq=False)
class Rollout:
    """What happened in one simulation, sampled at the control rate.

    Attributes:
        times: (S,) seconds from the start.
        qpos: (S, nq) simulated generalised positions.
        reference_qpos: (S, nq) the reference at the same times.
        body_error: (S,) mean distance between simulated and reference tracked bodies, m (world frame).
        root_error_xy: (S,) horizontal distance between simulated and reference pelvis, m.
        fallen: (S,) pelvis height or tilt outside the band (see :func:`simulate_tracking`).
        fall_time: first fallen time, s (``None`` if it never fell).
        assist_wrench: (S, 6) assistance force (N, world frame) and torque (N*m, pelvis frame) about
            the pelvis origin, averaged over each control period; zeros when unassisted.
        unstable: MuJoCo reported diverging accelerations (the simulation reset itself).
    """

    times: np.ndarray
    qpos: np.ndarray
    reference_qpos: np.ndarray
    body_error: np.ndarray
    root_error_xy: np.ndarray
    fallen: np.ndarray
    fall_time: float | None
    assist_wrench: np.ndarray
    unstable: bool

    @property
    def control_dt(self) -> float:
        return float(self.times[1] - self.times[0]) if len(self.times) > 1 else 0.0

    def until_fall(self) -> slice:
        """Samples before the fall (all of them if it never fell)."""
        return slice(0, int(np.argmax(self.fallen)) if self.fall_time is not None else len(self.times))


def control_reference(reference: Reference, spec: RobotSpec, control_hz: float, smoothing_window_s: float) -> Reference:
    """``reference`` resampled to the control rate (linear joints, slerp root) and re-smoothed."""
    return prepare_reference(reference.motion.resample(control_hz), spec, smoothing_window_s)


def _simulation_model(spec: RobotSpec) -> tuple[mujoco.MjModel, np.ndarray]:
    """The scene with unclipped actuator targets, and the actuator of each joint (in spec order)."""
    model = spec.load_model(scene=True)
    model.actuator_ctrllimited[:] = 0
    joint_ids = [model.joint(name).id for name in spec.joint_names]
    actuator_of_joint = {int(model.actuator_trnid[a, 0]): a for a in range(model.nu)}
    return model, np.array([actuator_of_joint[j] for j in joint_ids])


class _PelvisSpring:
    """The assistance spring-damper toward the reference pelvis pose, applied at every physics step.

    The reference pelvis state at each physics step is a second-order Taylor step from the last
    control frame (``p + v t + a t^2 / 2``; orientation rotated by its angular velocity), so the
    held control-rate reference does not bias the force. The ``-damping * velocity`` halves act
    through the free joint's dof damping, which MuJoCo integrates implicitly (stable although the
    pelvis alone is light) and so evaluates at the *end* of the step; the ``+damping * reference
    velocity`` halves are therefore taken one step ahead. The rest is generalised force on the free
    joint: world-frame force at the pelvis origin and pelvis-frame torque. In the loop, quaternion
    algebra uses MuJoCo's C routines: numpy's small-array overhead would dominate it.
    """

    def __init__(
        self, assist: PelvisAssist, target: Reference, model: mujoco.MjModel, free_qpos: int, free_dof: int,
        decimation: int,
    ):
        self.assist = assist
        self.free_qpos, self.free_dof = free_qpos, free_dof
        model.dof_damping[free_dof : free_dof + 3] = assist.damping
        model.dof_damping[free_dof + 3 : free_dof + 6] = assist.rot_damping
        self.damping = np.repeat([assist.damping, assist.rot_damping], 3)
        timestep = float(model.opt.timestep)
        elapsed = (np.arange(decimation) * timestep)[None, :, None]  # (1, D, 1) seconds since the control frame
        ahead = elapsed + timestep  # implicit damping acts on the end-of-step velocity
        pos, vel, acc = (x[:, None, :] for x in (target.motion.root_pos, target.qvel[:, 0:3], target.qacc[:, 0:3]))
        spin, spin_rate = target.qvel[:, None, 3:6], target.qacc[:, None, 3:6]  # pelvis frame
        quat = quat_multiply(target.motion.root_quat[:, None, :], quat_from_rotvec(spin * elapsed))
        # Arrays per physics step (frame * decimation + substep).
        self.pos = (pos + vel * elapsed + 0.5 * acc * elapsed**2).reshape(-1, 3)
        self.vel = (vel + acc * ahead).reshape(-1, 3)
        self.quat = quat.reshape(-1, 4)
        self.spin_world = quat_apply(quat, spin + spin_rate * ahead).reshape(-1, 3)
        self._inverse, self._spin_local, self._rotation_error = np.empty(4), np.empty(3), np.empty(3)

    def apply(self, data: mujoco.MjData, step: int) -> None:
        """Set the spring's generalised force for the state in ``data`` at physics step ``step``."""
        assist, q, d = self.assist, self.free_qpos, self.free_dof
        quat = data.qpos[q + 3 : q + 7]
        mujoco.mju_negQuat(self._inverse, quat)
        mujoco.mju_rotVecQuat(self._spin_local, self.spin_world[step], self._inverse)
        mujoco.mju_subQuat(self._rotation_error, self.quat[step], quat)  # log(q^-1 q_ref), pelvis frame
        force = assist.stiffness * (self.pos[step] - data.qpos[q : q + 3]) + assist.damping * self.vel[step]
        data.qfrc_applied[d : d + 3] = force
        data.qfrc_applied[d + 3 : d + 6] = (
            assist.rot_stiffness * self._rotation_error + assist.rot_damping * self._spin_local
        )

    def applied(self, data: mujoco.MjData) -> np.ndarray:
        """After a step: the whole assistance exerted during it (6,), force (N, world) and torque
        (N*m, pelvis frame), the implicit damping taken at the end-of-step velocity as MuJoCo does."""
        d = self.free_dof
        return data.qfrc_applied[d : d + 6] - self.damping * data.qvel[d : d + 6]


def _fallen(
    qpos: np.ndarray, reference_qpos: np.ndarray, free_qpos: int, fall_height: float, fall_tilt: float
) -> np.ndarray:
    """(S,) rows whose pelvis height or tilt is outside the band around the reference's."""
    height_error = np.abs(qpos[:, free_qpos + 2] - reference_qpos[:, free_qpos + 2])
    # World z of the pelvis up-axis = minus gravity's z in the pelvis frame (BeyondMimic's tilt measure).
    up_z = [quat_apply(q[:, free_qpos + 3 : free_qpos + 7], _UP)[:, 2] for q in (qpos, reference_qpos)]
    return (height_error > fall_height) | (np.abs(up_z[0] - up_z[1]) > fall_tilt)


def simulate_tracking(
    spec: RobotSpec,
    target: Reference,
    fall_height: float,
    fall_tilt: float,
    assist: PelvisAssist | None = None,
    torque_feedforward: np.ndarray | None = None,
    after_fall_s: float | None = None,
) -> Rollout:
    """Simulate the robot tracking ``target``, one control period per reference frame.

    Args:
        spec: the robot.
        target: the reference at the control rate (see :func:`control_reference`); its frame period
            must be a whole number of physics steps.
        fall_height: |pelvis height - reference pelvis height| beyond which the robot has fallen, m.
        fall_tilt: |world z of the pelvis up-axis - the reference's| beyond which it has fallen
            (BeyondMimic's projected-gravity tilt measure; unitless, 0 = same tilt, 2 = upside down).
        assist: gains of the pelvis spring-damper, or ``None`` for no help.
        torque_feedforward: (T, N) joint torques added to the PD law, N*m (e.g. from inverse dynamics),
            or ``None``.
        after_fall_s: stop this long after a fall (the rest tells nothing new); ``None`` runs the
            whole clip. The rollout's arrays are then shorter than ``target``.

    Raises:
        FormatError: the control period is not a whole number of physics steps.
    """
    model, actuators = _simulation_model(spec)
    data = mujoco.MjData(model)
    root = model.body(spec.root_body).id
    free_qpos = int(model.jnt_qposadr[model.body_jntadr[root]])
    free_dof = int(model.jnt_dofadr[model.body_jntadr[root]])
    decimation = int(round(1.0 / (target.fps * model.opt.timestep)))
    if decimation < 1 or not np.isclose(decimation * model.opt.timestep * target.fps, 1.0):
        raise FormatError(
            f"{target.fps:g} Hz does not divide the {1.0 / model.opt.timestep:g} Hz physics rate", field="control_hz"
        )
    targets = target.motion.joint_pos + (spec.kd / spec.kp)[None, :] * target.qvel[:, 6:]
    if torque_feedforward is not None:
        targets = targets + torque_feedforward / spec.kp[None, :]

    data.qpos[:] = target.qpos[0]
    data.qvel[:] = target.qvel[0]
    frames = target.num_frames
    stop = frames
    recorded = np.empty((frames, model.nq))
    wrench = np.zeros((frames, 6))
    spring = None if assist is None else _PelvisSpring(assist, target, model, free_qpos, free_dof, decimation)

    for frame in range(frames):
        recorded[frame] = data.qpos
        if frame == stop - 1:
            break
        now = slice(frame, frame + 1)
        if after_fall_s is not None and stop == frames:
            if _fallen(recorded[now], target.qpos[now], free_qpos, fall_height, fall_tilt)[0]:
                stop = min(frames, frame + 1 + int(round(after_fall_s * target.fps)))
        data.ctrl[actuators] = targets[frame]
        if spring is None:
            mujoco.mj_step(model, data, nstep=decimation)
            continue
        for substep in range(decimation):  # the spring acts at the physics rate
            spring.apply(data, frame * decimation + substep)
            mujoco.mj_step(model, data)
            wrench[frame] += spring.applied(data) / decimation
    recorded, reference_qpos, wrench = recorded[:stop], target.qpos[:stop], wrench[:stop]
    wrench[-1] = wrench[-2]  # no control period starts at the last frame

    tracked = spec.body_indices(spec.tracked_bodies) + 1  # model body ids (0 is the world)
    sim_bodies, _ = forward_kinematics(model, recorded, tracked)
    ref_bodies, _ = forward_kinematics(model, reference_qpos, tracked)
    fallen = _fallen(recorded, reference_qpos, free_qpos, fall_height, fall_tilt)
    root_xy = slice(free_qpos, free_qpos + 2)
    return Rollout(
        times=target.times[:stop],
        qpos=recorded,
        reference_qpos=reference_qpos,
        body_error=np.linalg.norm(sim_bodies - ref_bodies, axis=-1).mean(axis=1),
        root_error_xy=np.linalg.norm(recorded[:, root_xy] - reference_qpos[:, root_xy], axis=1),
        fallen=fallen,
        fall_time=float(target.times[np.argmax(fallen)]) if np.any(fallen) else None,
        assist_wrench=wrench,
        unstable=bool(data.warning[mujoco.mjtWarning.mjWARN_BADQACC].number > 0),
    )
