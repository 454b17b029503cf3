"""Where a robot motion's floor is: the clip's contact level, and the shift that puts it at z = 0.

Real references float or sink a few centimetres (a retarget SDK that set the lowest foot of the
whole clip to z = 0, a capture whose floor drifts). Per frame the *lowest point* of the robot is
the lowest point of any of its collision geoms (spheres, capsules, boxes, cylinders; other shapes
by their bounding sphere) after forward kinematics. The clip's **floor offset** is a low quantile
(default the 15th percentile) of that per-frame lowest point: the level the robot stands on most
of the time, insensitive to flight phases (the lowest point rises) and to a few frames that dip.

:func:`align_floor` shifts the root vertically by minus the offset, so the feet meet z = 0.

This module sits below formats, retargeting, generation and validation (it needs only the robot
model), so every stage can use it. Units: metres, z up.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import mujoco
import numpy as np

from robomotion.motion import RobotMotion

__all__ = ["FLOOR_QUANTILE", "FloorEstimate", "align_floor", "estimate_floor", "lowest_points"]

#: Quantile of the per-frame lowest point taken as the clip's contact level.
FLOOR_QUANTILE = 0.15


@dataclass(frozen=True, eq=False)
class FloorEstimate:
    """The floor a clip stands on.

    Attributes:
        offset: height of the clip's contact level above z = 0, m (negative: the clip sinks).
        lowest: (T,) lowest point of the robot per frame, m.
        quantile: the quantile of ``lowest`` that gave ``offset``.
    """

    offset: float
    lowest: np.ndarray
    quantile: float


def _robot_collision_geoms(model: mujoco.MjModel) -> np.ndarray:
    robot = model.geom_bodyid > 0
    colliding = (model.geom_contype != 0) | (model.geom_conaffinity != 0)
    return np.flatnonzero(robot & colliding)


def _geom_bottoms(model: mujoco.MjModel, geoms: np.ndarray, pos: np.ndarray, mat: np.ndarray) -> np.ndarray:
    """(T, G) lowest z of each geom in ``geoms`` given their world positions (T, G, 3) and rotation
    matrices (T, G, 9), m."""
    axes_z = mat.reshape(*mat.shape[:2], 3, 3)[..., 2, :]  # z components of the geom's x, y, z axes
    size = model.geom_size[geoms]
    kind = model.geom_type[geoms]
    depth = np.broadcast_to(model.geom_rbound[geoms], pos.shape[:2]).copy()
    sphere = kind == mujoco.mjtGeom.mjGEOM_SPHERE
    depth[:, sphere] = size[sphere, 0]
    capsule = kind == mujoco.mjtGeom.mjGEOM_CAPSULE
    depth[:, capsule] = size[capsule, 0] + np.abs(axes_z[:, capsule, 2]) * size[capsule, 1]
    box = kind == mujoco.mjtGeom.mjGEOM_BOX
    depth[:, box] = np.sum(np.abs(axes_z[:, box]) * size[box], axis=-1)
    cylinder = kind == mujoco.mjtGeom.mjGEOM_CYLINDER
    radial = np.sqrt(np.clip(1.0 - axes_z[:, cylinder, 2] ** 2, 0.0, 1.0))
    depth[:, cylinder] = size[cylinder, 0] * radial + np.abs(axes_z[:, cylinder, 2]) * size[cylinder, 1]
    return pos[..., 2] - depth


def lowest_points(motion: RobotMotion, model: mujoco.MjModel | None = None) -> np.ndarray:
    """(T,) height of the lowest point of the robot's collision geometry in each frame, m.

    Args:
        motion: the robot motion (joints matched to the model by name).
        model: a model of the same robot (default: its bare MJCF, no floor).
    """
    from robomotion.robots import get_robot
    from robomotion.robots.kinematics import qpos_from_motion

    if model is None:
        model = get_robot(motion.robot).load_model(scene=False)
    qpos = qpos_from_motion(motion, model)
    data = mujoco.MjData(model)
    geoms = _robot_collision_geoms(model)
    pos = np.empty((len(qpos), len(geoms), 3))
    mat = np.empty((len(qpos), len(geoms), 9))
    for t, row in enumerate(qpos):
        data.qpos[:] = row
        mujoco.mj_kinematics(model, data)
        pos[t] = data.geom_xpos[geoms]
        mat[t] = data.geom_xmat[geoms]
    return _geom_bottoms(model, geoms, pos, mat).min(axis=1)


def estimate_floor(
    motion: RobotMotion, quantile: float = FLOOR_QUANTILE, model: mujoco.MjModel | None = None
) -> FloorEstimate:
    """The clip's contact level: the ``quantile`` of the per-frame lowest robot point (m above z = 0)."""
    lowest = lowest_points(motion, model)
    return FloorEstimate(float(np.quantile(lowest, quantile)), lowest, quantile)


def align_floor(motion: RobotMotion, offset: float | None = None) -> RobotMotion:
    """``motion`` with its root moved down by ``offset`` (default: :func:`estimate_floor`'s), feet at z = 0.

    The shift is recorded in ``metadata["floor_offset_m"]`` (added to any earlier shift).
    """
    if offset is None:
        offset = estimate_floor(motion).offset
    root_pos = motion.root_pos.copy()
    root_pos[:, 2] -= offset
    metadata = dict(motion.metadata)
    metadata["floor_offset_m"] = float(metadata.get("floor_offset_m", 0.0)) + float(offset)
    return replace(motion, root_pos=root_pos, metadata=metadata)
