"""Batched forward kinematics and Jacobians of a floating-base MuJoCo tree, over many frames at once.

Everything is read from the compiled :class:`mujoco.MjModel` at run time (``body_parentid``,
``body_pos``, ``body_quat``, ``jnt_axis``, ``jnt_pos``, ``qpos0``), so the kinematics are those of
our G1 MJCF, not a copied link table. The result matches ``mujoco.mj_kinematics`` to machine
precision (tested), but runs one vectorised numpy step per body for all T frames instead of a
Python loop over frames.

Generalised coordinates used by the retargeting solver (per frame, ``nv = 6 + N``):

* ``[0:3]`` root translation in the world frame, metres;
* ``[3:6]`` root rotation as a *world-frame* rotation vector perturbation ``R <- exp([d]x) R``;
* ``[6:]`` the N hinge angles in MJCF order, radians.

Frames: z-up world, metres, radians; rotation matrices act on column vectors.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from robomotion.errors import FormatError
from robomotion.rotations import quat_to_matrix, rotvec_to_matrix

__all__ = ["TreeKinematics", "TreePose", "skew"]


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``np.cross`` for (..., 3) arrays, without its per-call overhead."""
    out = np.empty(np.broadcast_shapes(a.shape, b.shape))
    out[..., 0] = a[..., 1] * b[..., 2] - a[..., 2] * b[..., 1]
    out[..., 1] = a[..., 2] * b[..., 0] - a[..., 0] * b[..., 2]
    out[..., 2] = a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]
    return out


def skew(v: np.ndarray) -> np.ndarray:
    """Cross-product matrices ``[v]x`` (..., 3, 3) of vectors (..., 3)."""
    v = np.asarray(v, dtype=np.float64)
    out = np.zeros(v.shape[:-1] + (3, 3))
    out[..., 0, 1], out[..., 0, 2] = -v[..., 2], v[..., 1]
    out[..., 1, 0], out[..., 1, 2] = v[..., 2], -v[..., 0]
    out[..., 2, 0], out[..., 2, 1] = -v[..., 1], v[..., 0]
    return out


@dataclass(frozen=True, eq=False)
class TreePose:
    """World poses of every body over T frames (index 0 is MuJoCo's world body).

    Attributes:
        pos: (T, nbody, 3) body origin positions, m.
        rot: (T, nbody, 3, 3) body orientations (body-to-world rotation matrices).
        joint_anchor: (T, N, 3) world position of each hinge's axis point, m.
        joint_axis: (T, N, 3) world direction of each hinge axis (unit).
    """

    pos: np.ndarray
    rot: np.ndarray
    joint_anchor: np.ndarray
    joint_axis: np.ndarray

    def points(self, body_ids: np.ndarray, local: np.ndarray) -> np.ndarray:
        """(T, K, 3) world positions of K points given in their bodies' frames (K, 3)."""
        return self.pos[:, body_ids] + np.einsum("tkij,kj->tki", self.rot[:, body_ids], local)


class TreeKinematics:
    """Forward kinematics and Jacobians of a MuJoCo model with one freejoint root and hinges.

    Args:
        model: a model whose first joint is a freejoint and every other joint a hinge
            (robot-only or scene model; bodies without joints, e.g. the world, are allowed).
    """

    def __init__(self, model: mujoco.MjModel):
        if model.njnt < 2 or model.jnt_type[0] != mujoco.mjtJoint.mjJNT_FREE:
            raise FormatError("expected a freejoint root followed by hinge joints", field="model")
        if any(model.jnt_type[j] != mujoco.mjtJoint.mjJNT_HINGE for j in range(1, model.njnt)):
            raise FormatError("every joint after the root freejoint must be a hinge", field="model")
        if np.any(np.bincount(model.jnt_bodyid[1:], minlength=model.nbody) > 1):
            raise FormatError("at most one hinge per body is supported", field="model")
        self.model = model
        self.nbody = int(model.nbody)
        self.num_hinges = int(model.njnt - 1)
        self.nv = 6 + self.num_hinges
        self.root_body = int(model.jnt_bodyid[0])
        self.parent = model.body_parentid.copy()
        self.body_offset = model.body_pos.copy()
        self.body_rot = quat_to_matrix(model.body_quat)
        self.hinge_body = model.jnt_bodyid[1:].copy()
        self.hinge_qpos0 = model.qpos0[model.jnt_qposadr[1:]].copy()
        self.hinge_pos = model.jnt_pos[1:].copy()
        self.hinge_axis = model.jnt_axis[1:] / np.linalg.norm(model.jnt_axis[1:], axis=1, keepdims=True)
        self.joint_limits = model.jnt_range[1:].copy()
        # Hinge of each body (index num_hinges = "none": an identity rotation).
        self._body_hinge = np.full(self.nbody, self.num_hinges)
        self._body_hinge[self.hinge_body] = np.arange(self.num_hinges)
        axis_k = skew(self.hinge_axis)
        self._axis_k = np.concatenate([axis_k, np.zeros((1, 3, 3))])
        self._axis_k2 = self._axis_k @ self._axis_k
        self._hinge_pos_ext = np.concatenate([self.hinge_pos, np.zeros((1, 3))])
        k_body = self._axis_k[self._body_hinge]
        self._local_rot0 = self.body_rot
        self._local_rot1 = self.body_rot @ k_body
        self._local_rot2 = self.body_rot @ (k_body @ k_body)
        self._has_hinge_offsets = bool(np.any(self.hinge_pos != 0))
        self._jpos_body = self._hinge_pos_ext[self._body_hinge]
        self._jpos_pre = np.einsum("bij,bj->bi", self.body_rot, self._jpos_body)
        # Bodies grouped by depth below the root, so each level is one vectorised step.
        depth = np.zeros(self.nbody, dtype=int)
        for b in range(1, self.nbody):
            depth[b] = 0 if b == self.root_body else depth[self.parent[b]] + 1
        self._levels = [np.flatnonzero((depth == d) & (np.arange(self.nbody) != self.root_body))
                        for d in range(1, depth.max() + 1)]
        self._levels = [level[level > 0] for level in self._levels if len(level[level > 0])]
        ancestors = np.zeros((self.nbody, self.num_hinges), dtype=bool)
        for b in range(1, self.nbody):
            ancestors[b] = ancestors[self.parent[b]]
            if self._body_hinge[b] < self.num_hinges:
                ancestors[b, self._body_hinge[b]] = True
        #: (nbody, N) whether hinge j moves body b (j is on b or one of its ancestors).
        self.hinge_moves_body = ancestors
        width = max(1, int(ancestors.sum(axis=1).max()))
        self._ancestor_hinges = np.zeros((self.nbody, width), dtype=np.int64)
        self._ancestor_valid = np.zeros((self.nbody, width), dtype=bool)
        for b in range(self.nbody):
            moving = np.flatnonzero(ancestors[b])
            self._ancestor_hinges[b, : len(moving)] = moving
            self._ancestor_valid[b, : len(moving)] = True

    # ------------------------------------------------------------------ forward kinematics
    def forward(self, root_pos: np.ndarray, root_rot: np.ndarray, joint_pos: np.ndarray) -> TreePose:
        """World poses of all bodies.

        Args:
            root_pos: (T, 3) root body position, m.
            root_rot: (T, 3, 3) root body orientation.
            joint_pos: (T, N) hinge angles in MJCF order, rad.
        """
        frames = joint_pos.shape[0]
        angles = np.concatenate([joint_pos - self.hinge_qpos0, np.zeros((frames, 1))], axis=1)[:, self._body_hinge]
        # Parent-to-body rotation: body_rot @ (I + sin K + (1 - cos) K^2) (Rodrigues), pre-multiplied.
        local_rot = (
            self._local_rot0
            + np.sin(angles)[..., None, None] * self._local_rot1
            + (1.0 - np.cos(angles))[..., None, None] * self._local_rot2
        )
        local_pos = np.broadcast_to(self.body_offset, (frames, self.nbody, 3))
        if self._has_hinge_offsets:
            local_pos = local_pos + self._jpos_pre[None] - np.einsum("tbij,bj->tbi", local_rot, self._jpos_body)
        pos = np.zeros((frames, self.nbody, 3))
        rot = np.zeros((frames, self.nbody, 3, 3))
        rot[:, 0] = np.eye(3)
        pos[:, self.root_body], rot[:, self.root_body] = root_pos, root_rot
        parent = self.parent
        for level in self._levels:
            p = parent[level]
            parent_rot = rot[:, p]
            rot[:, level] = parent_rot @ local_rot[:, level]
            pos[:, level] = pos[:, p] + np.einsum("tbij,tbj->tbi", parent_rot, local_pos[:, level])
        # A hinge leaves its own axis fixed, so its world axis is the body rotation times the local axis.
        hb = self.hinge_body
        axis = np.einsum("tjik,jk->tji", rot[:, hb], self.hinge_axis)
        anchor = pos[:, hb]
        if self._has_hinge_offsets:
            anchor = anchor + np.einsum("tjik,jk->tji", rot[:, hb], self.hinge_pos)
        return TreePose(pos, rot, anchor, axis)

    # ------------------------------------------------------------------ Jacobians
    def _hinge_columns(self, bodies: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Ancestor hinges (K, A), their validity mask and their Jacobian columns (padding -> nv)."""
        hinges, valid = self._ancestor_hinges[bodies], self._ancestor_valid[bodies]
        return hinges, valid, np.where(valid, 6 + hinges, self.nv)

    def point_jacobian(self, pose: TreePose, bodies: np.ndarray, points: np.ndarray) -> np.ndarray:
        """(T, K, 3, nv) Jacobians of K points (T, K, 3), each rigidly attached to one of ``bodies`` (K,)."""
        frames, count = points.shape[:2]
        hinges, valid, columns = self._hinge_columns(bodies)
        arms = points[:, :, None, :] - pose.joint_anchor[:, hinges]
        values = _cross(pose.joint_axis[:, hinges], arms) * valid[None, :, :, None]  # (T, K, A, 3)
        jac = np.zeros((frames, count, self.nv + 1, 3))
        jac[:, np.arange(count)[:, None], columns] = values
        jac = np.swapaxes(jac[:, :, : self.nv], -1, -2)
        jac[..., 0, 0] = jac[..., 1, 1] = jac[..., 2, 2] = 1.0
        jac[..., 3:6] = -skew(points - pose.pos[:, self.root_body, None])  # d(theta x lever)/d(theta)
        return jac

    def rotation_jacobian(self, pose: TreePose, bodies: np.ndarray) -> np.ndarray:
        """(T, K, 3, nv) world angular-velocity Jacobians of ``bodies`` (K,)."""
        frames, count = pose.pos.shape[0], len(bodies)
        hinges, valid, columns = self._hinge_columns(bodies)
        jac = np.zeros((frames, count, self.nv + 1, 3))
        jac[:, np.arange(count)[:, None], columns] = pose.joint_axis[:, hinges] * valid[None, :, :, None]
        jac = np.swapaxes(jac[:, :, : self.nv], -1, -2)
        jac[..., 0, 3] = jac[..., 1, 4] = jac[..., 2, 5] = 1.0
        return jac

    def directional_jacobian(
        self, pose: TreePose, frames: np.ndarray, bodies: np.ndarray, points: np.ndarray, directions: np.ndarray
    ) -> np.ndarray:
        """(M, nv) Jacobians of ``directions . p`` for M body-attached points (one row each).

        Cheaper than projecting :meth:`point_jacobian`: only the projected row is formed.
        """
        count = len(frames)
        hinges, valid = self._ancestor_hinges[bodies], self._ancestor_valid[bodies]
        rows = frames[:, None]
        arms = points[:, None, :] - pose.joint_anchor[rows, hinges]
        # d . (axis x arm) = axis . (arm x d)
        values = np.einsum("mai,mai->ma", pose.joint_axis[rows, hinges], _cross(arms, directions[:, None, :]))
        jac = np.zeros((count, self.nv + 1))
        jac[np.arange(count)[:, None], np.where(valid, 6 + hinges, self.nv)] = values * valid
        jac = jac[:, : self.nv]
        jac[:, 0:3] = directions
        jac[:, 3:6] = _cross(points - pose.pos[frames, self.root_body], directions)
        return jac

    def relative_hinges(self, body_a: np.ndarray, body_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Hinges that move one body of each pair but not the other, padded: (P, A) indices and signs.

        Sign +1: the hinge moves ``body_a`` only; -1: ``body_b`` only; 0: padding. Hinges (and the
        floating base) that move both bodies do not change anything measured between them.
        """
        only_a = self.hinge_moves_body[body_a] & ~self.hinge_moves_body[body_b]
        only_b = self.hinge_moves_body[body_b] & ~self.hinge_moves_body[body_a]
        sign = only_a.astype(float) - only_b.astype(float)  # (P, N)
        width = max(1, int((sign != 0).sum(axis=1).max(initial=0)))
        order = np.argsort(sign == 0, axis=1, kind="stable")[:, :width]
        return order, np.take_along_axis(sign, order, axis=1)

    def separation_jacobian(
        self,
        pose: TreePose,
        frames: np.ndarray,
        hinges: np.ndarray,
        signs: np.ndarray,
        point: np.ndarray,
        direction: np.ndarray,
    ) -> np.ndarray:
        """(M, nv) Jacobians of ``direction . (p_a - p_b)`` for points on two bodies that touch at ``point``.

        ``hinges``/``signs`` (M, A) come from :meth:`relative_hinges` of each row's body pair;
        ``point`` (M, 3) is either witness point (the difference ``p_a - p_b`` is parallel to
        ``direction``, so both give the same row); ``direction`` (M, 3) is the unit normal.
        """
        rows = frames[:, None]
        arms = point[:, None, :] - pose.joint_anchor[rows, hinges]
        values = np.einsum("mai,mai->ma", pose.joint_axis[rows, hinges], _cross(arms, direction[:, None, :])) * signs
        jac = np.zeros((len(frames), self.nv + 1))
        # A hinge appears at most once per row (it moves one body or the other), so plain assignment works.
        jac[np.arange(len(frames))[:, None], np.where(signs != 0, 6 + hinges, self.nv)] = values
        return jac[:, : self.nv]

    # ------------------------------------------------------------------ coordinates
    @staticmethod
    def integrate(
        root_pos: np.ndarray, root_rot: np.ndarray, joint_pos: np.ndarray, step: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Apply a (T, nv) step in the solver's coordinates; returns new (root_pos, root_rot, joint_pos)."""
        return root_pos + step[:, 0:3], rotvec_to_matrix(step[:, 3:6]) @ root_rot, joint_pos + step[:, 6:]
