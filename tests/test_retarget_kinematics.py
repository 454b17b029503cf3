"""Batched kinematics and collision geometry of the retargeter against MuJoCo itself."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest
from robomotion.retarget.collision import CapsuleSet, closest_points_between_segments, self_collision_pairs
from robomotion.retarget.fk import TreeKinematics
from robomotion.retarget.kernels import build_model, forward_frame

from robomotion.robots import get_robot
from robomotion.rotations import matrix_to_rotvec, quat_normalize, quat_to_matrix


@pytest.fixture(scope="module")
def g1_model() -> mujoco.MjModel:
    return get_robot("g1").load_model(scene=False)


def _random_states(kin: TreeKinematics, rng: np.random.Generator, frames: int):
    lo, hi = kin.joint_limits.T
    return (
        rng.normal(size=(frames, 3)),
        quat_normalize(rng.normal(size=(frames, 4))),
        rng.uniform(lo, hi, size=(frames, kin.num_hinges)),
    )


def _check_against_mujoco(model: mujoco.MjModel, rng: np.random.Generator) -> None:
    """Both forward kinematics (batched numpy and the solver's compiled per-frame kernel) against MuJoCo's."""
    kin = TreeKinematics(model)
    kernel_model = build_model(kin, CapsuleSet.from_model(model), np.zeros((0, 2), dtype=np.int64))
    root_pos, root_quat, joints = _random_states(kin, rng, 25)
    root_rot = quat_to_matrix(root_quat)
    pose = kin.forward(root_pos, root_rot, joints)
    data = mujoco.MjData(model)
    pos, rot = np.empty((kin.nbody, 3)), np.empty((kin.nbody, 3, 3))
    axis, anchor = np.empty((kin.num_hinges, 3)), np.empty((kin.num_hinges, 3))
    for t in range(len(joints)):
        data.qpos[:3], data.qpos[3:7], data.qpos[7:] = root_pos[t], root_quat[t], joints[t]
        mujoco.mj_kinematics(model, data)
        forward_frame(kernel_model, root_pos[t], root_rot[t], joints[t], pos, rot, axis, anchor)
        for ours in ((pose.pos[t], pose.rot[t], pose.joint_anchor[t], pose.joint_axis[t]), (pos, rot, anchor, axis)):
            np.testing.assert_allclose(ours[0], data.xpos, atol=1e-12)
            np.testing.assert_allclose(ours[1], data.xmat.reshape(-1, 3, 3), atol=1e-12)
            np.testing.assert_allclose(ours[2], data.xanchor[1:], atol=1e-12)
            np.testing.assert_allclose(ours[3], data.xaxis[1:], atol=1e-12)


def test_forward_kinematics_matches_mujoco(g1_model, rng):
    _check_against_mujoco(g1_model, rng)


def test_forward_kinematics_matches_mujoco_with_joint_offsets_and_refs(rng):
    spec = mujoco.MjSpec.from_file(str(get_robot("g1").mjcf_path))
    for joint in spec.joints:
        if joint.type == mujoco.mjtJoint.mjJNT_HINGE:
            joint.pos = rng.normal(size=3) * 0.02
            joint.ref = float(rng.normal() * 0.1)
    _check_against_mujoco(spec.compile(), rng)


def test_jacobians_match_finite_differences(g1_model, rng):
    kin = TreeKinematics(g1_model)
    root_pos, root_quat, joints = _random_states(kin, rng, 4)
    root_rot = quat_to_matrix(root_quat)
    bodies = np.arange(1, kin.nbody)
    local = rng.normal(size=(len(bodies), 3)) * 0.1
    pose = kin.forward(root_pos, root_rot, joints)
    frames = np.repeat(np.arange(4), len(bodies))
    body_ids = np.tile(bodies, 4)
    points = pose.points(bodies, local)
    jp = kin.point_jacobian(pose, bodies, points)
    jr = kin.rotation_jacobian(pose, bodies)
    rows = jp.reshape(-1, 3, kin.nv)
    directions = rng.normal(size=(len(frames), 3))
    jd = kin.directional_jacobian(pose, frames, body_ids, points.reshape(-1, 3), directions)
    np.testing.assert_allclose(jd, np.einsum("mi,mij->mj", directions, rows), atol=1e-12)
    # Separation rows: two bodies whose witness points differ along the normal.
    other = np.roll(body_ids, 5)
    normal = directions / np.linalg.norm(directions, axis=1, keepdims=True)
    points_b = points.reshape(-1, 3) - 0.03 * normal
    hinges, signs = kin.relative_hinges(body_ids, other)
    js = kin.separation_jacobian(pose, frames, hinges, signs, points.reshape(-1, 3), normal)
    rows_b = kin.point_jacobian(pose, other.reshape(4, -1)[0], points_b.reshape(4, -1, 3)).reshape(-1, 3, kin.nv)
    np.testing.assert_allclose(js, np.einsum("mi,mij->mj", normal, rows - rows_b), atol=1e-12)
    eps = 1e-6
    for k in range(kin.nv):
        step = np.zeros((4, kin.nv))
        step[:, k] = eps
        moved = kin.forward(*kin.integrate(root_pos, root_rot, joints, step))
        moved_points = moved.points(bodies, local)
        np.testing.assert_allclose((moved_points - pose.points(bodies, local)) / eps, jp[..., k], atol=1e-5)
        turned = matrix_to_rotvec(moved.rot[:, bodies] @ np.swapaxes(pose.rot[:, bodies], -1, -2)) / eps
        np.testing.assert_allclose(turned, jr[..., k], atol=1e-5)


def test_capsule_distances_and_contacts_match_mujoco(g1_model, rng):
    kin = TreeKinematics(g1_model)
    capsules = CapsuleSet.from_model(g1_model)
    pairs = self_collision_pairs(g1_model, capsules)
    data = mujoco.MjData(g1_model)
    geom_id = {name: g1_model.geom(name).id for name in capsules.names}
    lo, hi = kin.joint_limits.T
    for _ in range(10):
        joints = rng.uniform(lo, hi)
        data.qpos[:] = 0.0
        data.qpos[3], data.qpos[7:] = 1.0, joints
        mujoco.mj_forward(g1_model, data)
        pose = kin.forward(np.zeros((1, 3)), np.eye(3)[None], joints[None])
        a, b = pose.points(capsules.body, capsules.local_a)[0], pose.points(capsules.body, capsules.local_b)[0]
        i, j = pairs.T
        p1, p2 = closest_points_between_segments(a[i], b[i], a[j], b[j])
        distance = np.linalg.norm(p1 - p2, axis=-1) - capsules.radius[i] - capsules.radius[j]
        for k in range(0, len(pairs), 11):
            expected = mujoco.mj_geomDistance(
                g1_model, data, geom_id[capsules.names[i[k]]], geom_id[capsules.names[j[k]]], 10.0, None
            )
            assert distance[k] == pytest.approx(expected, abs=1e-9)
        ours = {tuple(pairs[k]) for k in np.flatnonzero(distance < 0)}
        index = {g1_model.geom(name).id: i for i, name in enumerate(capsules.names)}
        theirs = {tuple(sorted((index[c.geom1], index[c.geom2]))) for c in data.contact[: data.ncon]}
        assert ours == theirs


def test_self_collision_pairs_follow_the_model_filters(g1_model):
    capsules = CapsuleSet.from_model(g1_model)
    pairs = self_collision_pairs(g1_model, capsules)
    bodies = {tuple(sorted((int(capsules.body[i]), int(capsules.body[j])))) for i, j in pairs}
    pelvis, left_hip_roll = g1_model.body("pelvis").id, g1_model.body("left_hip_roll_link").id
    assert (min(pelvis, left_hip_roll), max(pelvis, left_hip_roll)) not in bodies  # <exclude>
    for a, b in bodies:
        assert a != b and g1_model.body_parentid[b] != a and g1_model.body_parentid[a] != b


def test_closest_points_handle_points_and_parallel_segments():
    a1, b1 = np.array([0.0, 0, 0]), np.array([1.0, 0, 0])
    p1, p2 = closest_points_between_segments(a1, b1, np.array([0.5, 1, 0]), np.array([0.5, 1, 0]))
    np.testing.assert_allclose(p1, [0.5, 0, 0])
    np.testing.assert_allclose(p2, [0.5, 1, 0])
    p1, p2 = closest_points_between_segments(a1, b1, np.array([2.0, 1, 0]), np.array([3.0, 1, 0]))
    assert np.linalg.norm(p1 - p2) == pytest.approx(np.sqrt(2))
