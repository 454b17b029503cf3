"""The robot measured once at its zero pose: body origins and orientations, collision capsules.

Used by target building (:mod:`~robomotion.retarget.scaling`: limb lengths, sole heights) and by the
solver (self-collision capsules). Units: metres; z-up world; rotation matrices act on column vectors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from robomotion.retarget.collision import CapsuleSet
from robomotion.retarget.fk import TreeKinematics

from robomotion.errors import FormatError

__all__ = ["RobotGeometry"]


@dataclass(frozen=True, eq=False)
class RobotGeometry:
    """The robot measured at its zero pose (root at the origin, identity orientation).

    Attributes:
        kinematics: batched kinematics of the model.
        capsules: its collision capsules.
        pos0: (nbody, 3) body origins at the zero pose, m.
        rot0: (nbody, 3, 3) body orientations at the zero pose.
    """

    kinematics: TreeKinematics
    capsules: CapsuleSet
    pos0: np.ndarray
    rot0: np.ndarray

    @classmethod
    def from_kinematics(cls, kinematics: TreeKinematics) -> RobotGeometry:
        pose = kinematics.forward(np.zeros((1, 3)), np.eye(3)[None], kinematics.hinge_qpos0[None])
        return cls(kinematics, CapsuleSet.from_model(kinematics.model), pose.pos[0], pose.rot[0])

    def body(self, name: str) -> int:
        import mujoco

        body = mujoco.mj_name2id(self.kinematics.model, mujoco.mjtObj.mjOBJ_BODY, name)
        if body < 0:
            raise FormatError(f"the robot model has no body '{name}'", field="robot_body")
        return body

    def local(self, frame_body: int, body: int) -> np.ndarray:
        """Origin of ``body`` in the frame of ``frame_body`` at the zero pose, m."""
        return self.rot0[frame_body].T @ (self.pos0[body] - self.pos0[frame_body])

    def distance(self, a: int, b: int) -> float:
        return float(np.linalg.norm(self.pos0[a] - self.pos0[b]))

    def nearest_ancestor(self, body: int, candidates: list[int]) -> int:
        """The closest ancestor of ``body`` (or itself) among ``candidates``."""
        parent = self.kinematics.parent
        b = body
        while b != 0:
            if b in candidates:
                return b
            b = int(parent[b])
        raise FormatError(f"body {body} has no ancestor among {candidates}", field="robot_body")

    def planted_height(self, foot_body: int) -> float:
        """Height of the foot body origin when its sole lies flat on z = 0, m."""
        index = self.capsules.indices_on_bodies(np.array([foot_body]))
        if len(index) == 0:
            raise FormatError(f"foot body {foot_body} has no collision geoms", field="robot_body")
        return -self.capsules.lowest_local_z(index)
