"""Forward kinematics of robot motions with MuJoCo: world poses and velocities of every body.

* :func:`qpos_from_motion` puts a :class:`~robomotion.motion.RobotMotion` into a model's qpos
  layout, matching joints **by name** (any order in, model order out; missing or unknown
  names are an error).
* :func:`forward_kinematics` runs ``mujoco.mj_kinematics`` on each qpos row (kinematic replay,
  no dynamics) and returns body origin positions and orientations.
* :func:`body_trajectories` adds velocities by **central finite differences of those poses**
  (one-sided at the first and last frame): linear velocity of the body origin and angular
  velocity ``log(q[t+1] q[t-1]^-1) / (2 dt)``, both in the world frame.

Units: metres, seconds, rad/s; quaternions (w, x, y, z); z-up world.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import mujoco
import numpy as np

from robomotion.errors import FormatError
from robomotion.motion import RobotMotion
from robomotion.rotations import quat_conjugate, quat_multiply, quat_to_rotvec

__all__ = [
    "BodyTrajectories",
    "body_trajectories",
    "finite_difference_angular_velocity",
    "forward_kinematics",
    "hinge_joint_names",
    "qpos_from_motion",
]


@dataclass(frozen=True, eq=False)
class BodyTrajectories:
    """World-frame trajectories of B bodies over T frames.

    Attributes:
        body_names: the B body names.
        pos: (T, B, 3) body origin positions, m.
        quat: (T, B, 4) body orientations (w, x, y, z).
        lin_vel: (T, B, 3) body origin linear velocities, m/s (finite differences of ``pos``).
        ang_vel: (T, B, 3) body angular velocities, rad/s (finite differences of ``quat``).
        fps: frames per second.
    """

    body_names: tuple[str, ...]
    pos: np.ndarray
    quat: np.ndarray
    lin_vel: np.ndarray
    ang_vel: np.ndarray
    fps: float

    @property
    def num_frames(self) -> int:
        return int(self.pos.shape[0])

    def index(self, name: str) -> int:
        """Column of body ``name`` in the (T, B, ...) arrays."""
        if name not in self.body_names:
            raise FormatError(f"body '{name}' not in {list(self.body_names)}", field="body_names")
        return self.body_names.index(name)


def hinge_joint_names(model: mujoco.MjModel) -> tuple[str, ...]:
    """Names of the model's hinge and slide joints (the actuated coordinates) in qpos order."""
    scalar = (int(mujoco.mjtJoint.mjJNT_HINGE), int(mujoco.mjtJoint.mjJNT_SLIDE))
    return tuple(model.joint(j).name for j in range(model.njnt) if int(model.jnt_type[j]) in scalar)


def qpos_from_motion(motion: RobotMotion, model: mujoco.MjModel) -> np.ndarray:
    """(T, nq) qpos rows of ``motion`` in ``model``'s layout, joints matched by name.

    The model's first joint must be the floating base (a freejoint): it receives the root
    position and (w, x, y, z) quaternion. Raises :class:`FormatError` when the motion lacks some
    of the model's joints or has joints the model does not know.
    """
    if model.njnt == 0 or model.jnt_type[0] != mujoco.mjtJoint.mjJNT_FREE:
        raise FormatError("the model has no floating base (first joint must be a freejoint)", field="model")
    model_joints = hinge_joint_names(model)
    missing = [n for n in model_joints if n not in motion.joint_names]
    unknown = [n for n in motion.joint_names if n not in model_joints]
    if missing or unknown:
        raise FormatError(
            f"joint names do not match the model: missing {missing}, unknown {unknown}", field="joint_names"
        )
    column = {name: i for i, name in enumerate(motion.joint_names)}
    order = np.array([column[n] for n in model_joints])
    adr = np.array([model.jnt_qposadr[model.joint(n).id] for n in model_joints])
    root = model.jnt_qposadr[0]
    qpos = np.tile(model.qpos0, (motion.num_frames, 1))
    qpos[:, root : root + 3] = motion.root_pos
    qpos[:, root + 3 : root + 7] = motion.root_quat
    qpos[:, adr] = motion.joint_pos[:, order]
    return qpos


def _body_ids(model: mujoco.MjModel, bodies: Sequence[str] | None) -> tuple[tuple[str, ...], np.ndarray]:
    if bodies is None:
        ids = np.arange(1, model.nbody)
    else:
        ids = np.array([mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, name) for name in bodies], dtype=int)
        if np.any(ids < 0):
            unknown = [name for name, i in zip(bodies, ids, strict=True) if i < 0]
            raise FormatError(f"unknown bodies {unknown}", field="bodies")
    return tuple(model.body(int(i)).name for i in ids), ids


def forward_kinematics(
    model: mujoco.MjModel, qpos: np.ndarray, body_ids: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """World body poses for each qpos row via ``mj_kinematics``.

    Args:
        model: the MuJoCo model.
        qpos: (T, nq) generalised positions.
        body_ids: body indices to return (default: all but the world body).

    Returns:
        ``pos`` (T, B, 3) in metres and ``quat`` (T, B, 4) (w, x, y, z), world frame.
    """
    qpos = np.asarray(qpos, dtype=np.float64)
    if qpos.ndim != 2 or qpos.shape[1] != model.nq:
        raise FormatError(f"expected shape (T, {model.nq}), got {qpos.shape}", field="qpos")
    data = mujoco.MjData(model)
    frames = qpos.shape[0]
    xpos = np.empty((frames, model.nbody, 3))
    xquat = np.empty((frames, model.nbody, 4))
    for t in range(frames):
        data.qpos[:] = qpos[t]
        mujoco.mj_kinematics(model, data)
        xpos[t] = data.xpos
        xquat[t] = data.xquat
    if body_ids is None:
        return xpos[:, 1:], xquat[:, 1:]
    return xpos[:, body_ids], xquat[:, body_ids]


def finite_difference_angular_velocity(quat: np.ndarray, fps: float) -> np.ndarray:
    """World-frame angular velocity (rad/s) of (T, ..., 4) orientation tracks along axis 0.

    Central differences ``log(q[t+1] q[t-1]^-1) / (2 dt)``; one-sided at both ends; zeros for a
    single frame. Sign flips between neighbouring quaternions are harmless (the log takes the
    short way round).
    """
    quat = np.asarray(quat, dtype=np.float64)
    if quat.shape[0] < 2:
        return np.zeros(quat.shape[:-1] + (3,))
    nxt = np.concatenate([quat[1:], quat[-1:]])
    prv = np.concatenate([quat[:1], quat[:-1]])
    steps = np.full(quat.shape[0], 2.0)
    steps[0] = steps[-1] = 1.0
    delta = quat_to_rotvec(quat_multiply(nxt, quat_conjugate(prv)))
    return delta * (fps / steps).reshape((-1,) + (1,) * (delta.ndim - 1))


def body_trajectories(
    motion: RobotMotion, model: mujoco.MjModel | None = None, bodies: Sequence[str] | None = None
) -> BodyTrajectories:
    """World poses and velocities of ``bodies`` along ``motion`` (kinematic replay).

    Args:
        motion: the robot motion (joints matched to the model by name).
        model: a model of the same robot; default ``get_robot(motion.robot).load_model(scene=False)``.
        bodies: body names to return, in this order; default every body in MJCF order.

    Positions and orientations come from ``mj_kinematics``; velocities are central finite
    differences of them (see the module docstring).
    """
    if model is None:
        from robomotion.robots import get_robot

        model = get_robot(motion.robot).load_model(scene=False)
    names, ids = _body_ids(model, bodies)
    pos, quat = forward_kinematics(model, qpos_from_motion(motion, model), ids)
    if motion.num_frames < 2:
        lin_vel = np.zeros_like(pos)
    else:
        lin_vel = np.gradient(pos, 1.0 / motion.fps, axis=0)
    ang_vel = finite_difference_angular_velocity(quat, motion.fps)
    return BodyTrajectories(names, pos, quat, lin_vel, ang_vel, motion.fps)
