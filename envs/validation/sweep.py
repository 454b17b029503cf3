"""One pass of MuJoCo over every reference frame: bodies, contacts, Jacobians and inverse dynamics.

Nothing is simulated here: each frame's state is *set* from the reference and MuJoCo answers
geometric and dynamic questions about it.

* Geometry (``mj_kinematics`` + ``mj_collision`` on a copy of the scene whose floor has a
  ``contact_distance`` margin): world positions of the bodies, robot-floor contacts with signed
  distances (negative = below the floor) and robot-robot contacts (self-collisions; MuJoCo's
  parent/child filter and the model's ``<exclude>`` pairs apply).
* Dynamics (``mj_inverse`` on a copy with all constraints disabled): the generalised force
  ``M(q) qacc + c(q, qvel)`` the reference needs. Its first six entries are the wrench on the
  floating base that only external (contact) forces can supply; the rest are joint torques
  before contact forces are accounted for.
* Jacobians of every body touching the floor (``mj_jacBody``), from which :func:`point_jacobians`
  gives the Jacobian of any contact point.

Frames: world z-up; contact frames are rows ``[normal, tangent1, tangent2]`` with the normal
pointing from the floor into the robot.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import mujoco
import numpy as np
from robomotion.envs.validation.reference import Reference

from robomotion.robots.spec import RobotSpec

__all__ = ["FloorContacts", "SelfContacts", "ReferenceSweep", "sweep_reference", "point_jacobians", "within"]


@dataclass(frozen=True, eq=False)
class FloorContacts:
    """Robot-floor contacts (within the contact distance) of all frames, flattened.

    Attributes:
        frame: (K,) reference frame of each contact.
        body: (K,) MuJoCo body id of the robot body touching the floor.
        geom: (K,) MuJoCo geom id of the robot geom.
        pos: (K, 3) contact point, world frame, m.
        basis: (K, 3, 3) rows: floor normal (into the robot), two tangents.
        dist: (K,) signed distance to the floor, m (negative = penetration).
        jacobian_index: (K,) row of :attr:`ReferenceSweep.body_jacobians` for this contact.
    """

    frame: np.ndarray
    body: np.ndarray
    geom: np.ndarray
    pos: np.ndarray
    basis: np.ndarray
    dist: np.ndarray
    jacobian_index: np.ndarray

    def __len__(self) -> int:
        return len(self.frame)


@dataclass(frozen=True, eq=False)
class SelfContacts:
    """Penetrating robot-robot contacts of all frames, flattened: frame, geom ids, depth (m, > 0)."""

    frame: np.ndarray
    geom1: np.ndarray
    geom2: np.ndarray
    depth: np.ndarray

    def __len__(self) -> int:
        return len(self.frame)


@dataclass(frozen=True, eq=False)
class ReferenceSweep:
    """Everything MuJoCo says about the reference frames (see the module docstring).

    Attributes:
        model: the geometry model (scene with the floor margin); ids below refer to it.
        body_pos: (T, nbody, 3) world positions of all bodies (index 0 is the world), m.
        com: (T, 3) whole-robot centre of mass, m.
        inverse_force: (T, nv) ``M qacc + c`` without contacts (N, N*m; MuJoCo free-joint convention).
        floor: robot-floor contacts.
        self_contacts: penetrating robot-robot contacts.
        body_jacobians: (B, 6, nv) ``[translational; rotational]`` Jacobians of the body origins
            of :attr:`jacobian_body` at :attr:`jacobian_frame`.
        jacobian_frame, jacobian_body: (B,) frame and body id of each Jacobian.
    """

    model: mujoco.MjModel
    body_pos: np.ndarray
    com: np.ndarray
    inverse_force: np.ndarray
    floor: FloorContacts
    self_contacts: SelfContacts
    body_jacobians: np.ndarray
    jacobian_frame: np.ndarray
    jacobian_body: np.ndarray

    @property
    def num_frames(self) -> int:
        return self.body_pos.shape[0]


def point_jacobians(sweep: ReferenceSweep, contacts: np.ndarray) -> np.ndarray:
    """(k, 3, nv) translational Jacobians of the robot material points at contacts ``contacts`` (indices).

    From the body-origin Jacobians: ``J_p = J_body - [p - x_body]_x J_rot``.
    """
    floor = sweep.floor
    jac = sweep.body_jacobians[floor.jacobian_index[contacts]]
    offset = floor.pos[contacts] - sweep.body_pos[floor.frame[contacts], floor.body[contacts]]
    # [r]_x J_rot, column by column: r x (J_rot e_i).
    return jac[:, :3] - np.cross(offset[:, :, None], jac[:, 3:], axis=1)


def within(sweep: ReferenceSweep, distance: float) -> ReferenceSweep:
    """``sweep`` keeping only the floor contacts closer than ``distance`` (m) to the floor."""
    floor = sweep.floor
    keep = floor.dist < distance
    if np.all(keep):
        return sweep
    columns = {f.name: getattr(floor, f.name)[keep] for f in fields(FloorContacts)}
    return replace(sweep, floor=FloorContacts(**columns))


def _geometry_model(spec: RobotSpec, contact_distance: float) -> tuple[mujoco.MjModel, np.ndarray]:
    """The scene compiled with a ``contact_distance`` margin on the environment's geoms.

    The margin must be compiled in: MuJoCo (4.0) sizes its broad phase from the compiled margins,
    so raising ``model.geom_margin`` afterwards silently finds only contacts within ~1 cm.
    """
    scene = mujoco.MjSpec.from_file(str(spec.scene_path))
    for geom in scene.worldbody.geoms:
        geom.margin = contact_distance
    model = scene.compile()
    environment = np.flatnonzero(model.geom_bodyid == 0)
    return model, environment


def _inverse_model(spec: RobotSpec) -> mujoco.MjModel:
    model = spec.load_model(scene=True)
    model.opt.disableflags |= mujoco.mjtDisableBit.mjDSBL_CONSTRAINT
    return model


def sweep_reference(reference: Reference, spec: RobotSpec, contact_distance: float) -> ReferenceSweep:
    """Run the geometry and inverse-dynamics pass over every frame of ``reference``."""
    model, environment = _geometry_model(spec, contact_distance)
    data = mujoco.MjData(model)
    inverse_model = _inverse_model(spec)
    inverse_data = mujoco.MjData(inverse_model)
    is_environment = np.zeros(model.ngeom, dtype=bool)
    is_environment[environment] = True
    root_body = model.body(spec.root_body).id

    frames = reference.num_frames
    body_pos = np.empty((frames, model.nbody, 3))
    com = np.empty((frames, 3))
    inverse_force = np.empty((frames, model.nv))
    floor_parts: list[tuple] = []
    self_parts: list[tuple] = []
    jacobians: list[np.ndarray] = []
    jacobian_frame: list[int] = []
    jacobian_body: list[int] = []
    jacp = np.empty((3, model.nv))
    jacr = np.empty((3, model.nv))

    for t in range(frames):
        data.qpos[:] = reference.qpos[t]
        mujoco.mj_kinematics(model, data)
        mujoco.mj_collision(model, data)
        body_pos[t] = data.xpos
        inverse_data.qpos[:] = reference.qpos[t]
        inverse_data.qvel[:] = reference.qvel[t]
        inverse_data.qacc[:] = reference.qacc[t]
        mujoco.mj_inverse(inverse_model, inverse_data)
        inverse_force[t] = inverse_data.qfrc_inverse
        com[t] = inverse_data.subtree_com[root_body]
        if data.ncon == 0:
            continue
        contact = data.contact
        geom1, geom2, dist = contact.geom1.copy(), contact.geom2.copy(), contact.dist.copy()
        env1, env2 = is_environment[geom1], is_environment[geom2]
        robot_robot = ~env1 & ~env2
        if np.any(robot_robot & (dist < 0)):
            keep = robot_robot & (dist < 0)
            self_parts.append((np.full(keep.sum(), t), geom1[keep], geom2[keep], -dist[keep]))
        floor = env1 ^ env2
        if not np.any(floor):
            continue
        robot_geom = np.where(env1, geom2, geom1)[floor]
        basis = contact.frame[floor].reshape(-1, 3, 3).copy()
        basis[env2[floor]] *= -1.0  # MuJoCo's normal points from geom1 to geom2; make it floor -> robot
        bodies = model.geom_bodyid[robot_geom]
        unique_bodies, jacobian_of_contact = np.unique(bodies, return_inverse=True)
        first_jacobian = len(jacobians)
        for body in unique_bodies:
            mujoco.mj_jacBody(inverse_model, inverse_data, jacp, jacr, int(body))
            jacobians.append(np.concatenate([jacp, jacr]))
            jacobian_frame.append(t)
            jacobian_body.append(int(body))
        floor_parts.append(
            (np.full(len(robot_geom), t), bodies, robot_geom, contact.pos[floor].copy(), basis, dist[floor],
             first_jacobian + jacobian_of_contact)
        )

    integer, real = np.int64, np.float64
    floor_columns = _concatenate(
        floor_parts, [((0,), integer), ((0,), integer), ((0,), integer), ((0, 3), real), ((0, 3, 3), real),
                      ((0,), real), ((0,), integer)]
    )
    self_columns = _concatenate(self_parts, [((0,), integer), ((0,), integer), ((0,), integer), ((0,), real)])
    return ReferenceSweep(
        model=model,
        body_pos=body_pos,
        com=com,
        inverse_force=inverse_force,
        floor=FloorContacts(*floor_columns),
        self_contacts=SelfContacts(*self_columns),
        body_jacobians=np.array(jacobians).reshape(-1, 6, model.nv),
        jacobian_frame=np.array(jacobian_frame, dtype=np.int64),
        jacobian_body=np.array(jacobian_body, dtype=np.int64),
    )


def _concatenate(parts: list[tuple], empty: list[tuple[tuple[int, ...], type]]) -> list[np.ndarray]:
    """Column-wise concatenation of per-frame tuples; ``empty`` gives (shape, dtype) when there are none."""
    if not parts:
        return [np.zeros(shape, dtype=dtype) for shape, dtype in empty]
    return [np.concatenate(column).astype(dtype, copy=False) for column, (_, dtype) in zip(zip(*parts), empty)]
