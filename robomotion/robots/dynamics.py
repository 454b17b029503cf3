"""Rigid-body dynamics of a robot with pinocchio: inverse dynamics, centre of mass, centroidal momentum.

The pinocchio model is built from the robot's own MJCF (``RobotSpec.mjcf_path``), so masses,
inertias, joint axes and rotor armature are MuJoCo's. Every input and output uses **MuJoCo's
conventions**, so the numbers can replace MuJoCo calls one for one:

* ``qpos`` (T, nq): root position (m, world), root quaternion ``(w, x, y, z)``, joint angles (rad);
* ``qvel`` (T, nv): root linear velocity (m/s, **world** frame), root angular velocity (rad/s,
  **root body** frame), joint speeds (rad/s);
* ``qacc`` (T, nv): the time derivative of ``qvel``, component by component;
* :meth:`RobotDynamics.inverse_dynamics` returns ``qfrc_inverse`` of ``mujoco.mj_inverse`` on a model
  with constraints disabled: the generalised force (root force in N, world frame; root torque in
  N*m, root frame; joint torques in N*m) that produces ``qacc`` without any contact.

Pinocchio's free-flyer uses ``(x, y, z, w)`` quaternions and root-frame linear velocities; the
conversion happens here, vectorised over frames, and the frames run in pinocchio's C++ batch
(``rneaInParallel``), which is ~10x faster than a Python loop over ``mj_inverse`` (see
``benchmarks/dynamics.py``). Needs the ``dynamics`` extra (``pip install 'robomotion[dynamics]'``).

::

    from robomotion.robots.dynamics import RobotDynamics, motion_state
    dynamics = RobotDynamics("g1")
    qpos, qvel, qacc = motion_state(robot_motion)
    tau = dynamics.inverse_dynamics(qpos, qvel, qacc)          # (T, 35)
    com = dynamics.center_of_mass(qpos)                        # (T, 3) m
    momentum = dynamics.centroidal_momentum(qpos, qvel)        # (T, 6) kg m/s, kg m^2/s about the CoM
"""

from __future__ import annotations

from typing import Any

import numpy as np

from robomotion.errors import BackendUnavailableError, FormatError
from robomotion.motion import RobotMotion
from robomotion.robots.spec import RobotSpec
from robomotion.rotations import quat_to_matrix

__all__ = ["RobotDynamics", "motion_state"]


def _import_pinocchio() -> Any:
    try:
        import pinocchio
    except ImportError as exc:
        raise BackendUnavailableError(
            f"robot dynamics need pinocchio: pip install 'robomotion[dynamics]' (PyPI package 'pin'); {exc}"
        ) from exc
    return pinocchio


class RobotDynamics:
    """Pinocchio model of a robot (floating base) with batched dynamics in MuJoCo's conventions.

    Args:
        robot: a robot name (see :func:`robomotion.robots.list_robots`) or its :class:`RobotSpec`.
        threads: threads of pinocchio's batched calls (1 = no threads).

    Raises:
        BackendUnavailableError: pinocchio is not installed.
        FormatError: the pinocchio model's joints differ from the MuJoCo model's.
    """

    def __init__(self, robot: str | RobotSpec = "g1", threads: int = 1):
        from robomotion.robots import get_robot

        self.pin = pin = _import_pinocchio()
        self.spec = get_robot(robot) if isinstance(robot, str) else robot
        self.model = pin.buildModelFromMJCF(str(self.spec.mjcf_path))
        self.data = self.model.createData()
        names = tuple(self.model.names)[2:]  # "universe", the free joint, then the hinges in tree order
        if names != tuple(self.spec.joint_names) or self.model.nq != len(names) + 7:
            raise FormatError(
                f"pinocchio's joints {names} differ from the robot's {self.spec.joint_names}", self.spec.mjcf_path
            )
        self.threads = max(1, int(threads))
        self._pool = pin.ModelPool(self.model, self.threads)

    @property
    def nq(self) -> int:
        return int(self.model.nq)

    @property
    def nv(self) -> int:
        return int(self.model.nv)

    @property
    def total_mass(self) -> float:
        """kg."""
        return float(self.pin.computeTotalMass(self.model))

    def _check(self, array: np.ndarray, width: int, name: str) -> np.ndarray:
        array = np.asarray(array, dtype=np.float64)
        if array.ndim != 2 or array.shape[1] != width:
            raise FormatError(f"expected shape (T, {width}), got {array.shape}", field=name)
        return array

    def _to_pinocchio(self, qpos: np.ndarray, qvel: np.ndarray | None = None, qacc: np.ndarray | None = None):
        """MuJoCo-convention states -> pinocchio's (q, v, a), plus the root rotation matrices (T, 3, 3)."""
        qpos = self._check(qpos, self.nq, "qpos")
        quat = qpos[:, 3:7] / np.linalg.norm(qpos[:, 3:7], axis=1, keepdims=True)
        rotation = quat_to_matrix(quat)
        q = np.concatenate([qpos[:, :3], quat[:, 1:], quat[:, :1], qpos[:, 7:]], axis=1)
        if qvel is None:
            return rotation, q, None, None
        qvel = self._check(qvel, self.nv, "qvel")
        if len(qvel) != len(qpos):
            raise FormatError(f"qvel has {len(qvel)} frames, qpos {len(qpos)}", field="qvel")
        linear = np.einsum("tji,tj->ti", rotation, qvel[:, :3])  # R^T v: root-frame linear velocity
        v = np.concatenate([linear, qvel[:, 3:]], axis=1)
        if qacc is None:
            return rotation, q, v, None
        qacc = self._check(qacc, self.nv, "qacc")
        if len(qacc) != len(qpos):
            raise FormatError(f"qacc has {len(qacc)} frames, qpos {len(qpos)}", field="qacc")
        # d/dt (R^T v_world) = R^T a_world - omega_root x (R^T v_world)
        linear_acc = np.einsum("tji,tj->ti", rotation, qacc[:, :3]) - np.cross(qvel[:, 3:6], linear)
        a = np.concatenate([linear_acc, qacc[:, 3:]], axis=1)
        return rotation, q, v, a

    def inverse_dynamics(self, qpos: np.ndarray, qvel: np.ndarray, qacc: np.ndarray) -> np.ndarray:
        """(T, nv) generalised forces for ``qacc``: ``mj_inverse``'s ``qfrc_inverse`` without contacts.

        Root force in N (world frame), root torque in N*m (root frame), joint torques in N*m; gravity
        -9.81 m/s^2 along z, rotor armature included.
        """
        rotation, q, v, a = self._to_pinocchio(qpos, qvel, qacc)
        tau = np.empty((self.nv, len(q)), order="F")
        self.pin.rneaInParallel(
            self.threads, self._pool, np.asfortranarray(q.T), np.asfortranarray(v.T), np.asfortranarray(a.T), tau
        )
        tau = tau.T.copy()
        tau[:, :3] = np.einsum("tij,tj->ti", rotation, tau[:, :3])  # root force back to the world frame
        return tau

    def center_of_mass(self, qpos: np.ndarray) -> np.ndarray:
        """(T, 3) whole-body centre of mass, m, world frame (MuJoCo's ``subtree_com`` of the root body)."""
        _, q, _, _ = self._to_pinocchio(qpos)
        pin, model, data = self.pin, self.model, self.data
        return np.array([np.array(pin.centerOfMass(model, data, q_t, False)) for q_t in q]).reshape(-1, 3)

    def centroidal_momentum(self, qpos: np.ndarray, qvel: np.ndarray) -> np.ndarray:
        """(T, 6) centroidal momentum, world frame: linear (kg m/s), then angular about the CoM (kg m^2/s).

        MuJoCo's equivalents after ``mj_subtreeVel``: ``total_mass * subtree_linvel`` and ``subtree_angmom``
        of the root body.
        """
        _, q, v, _ = self._to_pinocchio(qpos, qvel)
        pin, model, data = self.pin, self.model, self.data
        out = np.empty((len(q), 6))
        for t in range(len(q)):
            out[t] = pin.computeCentroidalMomentum(model, data, q[t], v[t]).vector
        return out


def motion_state(motion: RobotMotion, spec: RobotSpec | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(qpos, qvel, qacc)`` of a robot motion in MuJoCo's conventions, by central differences.

    ``qpos`` follows the model's joint order (joints matched by name); ``qvel`` holds the root's world
    linear velocity (m/s), its root-frame angular velocity (rad/s) and joint speeds; ``qacc`` is the
    central difference of ``qvel``. No smoothing (the validator smooths its reference first).
    """
    from robomotion.robots import get_robot
    from robomotion.robots.kinematics import finite_difference_angular_velocity, qpos_from_motion

    spec = spec or get_robot(motion.robot)
    qpos = qpos_from_motion(motion, spec.load_model(scene=False))
    frames = len(qpos)
    if frames < 2:
        zeros = np.zeros((frames, qpos.shape[1] - 1))
        return qpos, zeros, zeros.copy()
    dt = 1.0 / motion.fps
    omega_world = finite_difference_angular_velocity(qpos[:, 3:7], motion.fps)
    rotation = quat_to_matrix(qpos[:, 3:7])
    qvel = np.concatenate(
        [np.gradient(qpos[:, :3], dt, axis=0), np.einsum("tji,tj->ti", rotation, omega_world),
         np.gradient(qpos[:, 7:], dt, axis=0)],
        axis=1,
    )
    return qpos, qvel, np.gradient(qvel, dt, axis=0)
