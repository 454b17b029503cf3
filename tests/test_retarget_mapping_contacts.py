"""Mapping files, contact detection and foot locks of the retargeter."""

from __future__ import annotations

import json

import numpy as np
import pytest
from robomotion.retarget.foot_locks import lock_feet
from robomotion.retarget.mapping import list_mappings, load_mapping, mapping_for_skeleton

from robomotion.errors import FormatError, UnknownNameError
from robomotion.foot_contacts import ContactDetection, contact_segments, detect_foot_contacts
from robomotion.skeletons import get_skeleton


def test_every_shipped_mapping_parses_and_fits_its_skeletons():
    assert {"smpl22", "smplx22", "soma30", "soma77", "bvh-cmu"} <= set(list_mappings())
    for name in list_mappings():
        mapping = load_mapping(name)
        assert mapping.robot == "g1" and mapping.rest in ("skeleton", "upright")
        for skeleton in mapping.skeletons:
            if skeleton in ("bvh-cmu", "cmu"):
                continue
            assert mapping_for_skeleton(get_skeleton(skeleton)).name == name
            assert mapping.missing_joints(get_skeleton(skeleton)) == []


def test_unknown_skeleton_gets_a_clear_error():
    with pytest.raises(FormatError, match="no retarget mapping.*g1skel34.*Add a file"):
        mapping_for_skeleton(get_skeleton("g1skel34"))
    with pytest.raises(UnknownNameError):
        load_mapping("no-such-mapping")


def test_a_broken_mapping_file_names_the_field(tmp_path):
    data = json.loads(load_mapping("smpl22").path.read_text())
    data["limbs"][0]["human"] = ["left_hip", "left_knee"]
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(data))
    with pytest.raises(FormatError, match=r"limbs\[0\]\.human.*3 names"):
        load_mapping(str(path))
    data = json.loads(load_mapping("smpl22").path.read_text())
    data["rest"] = "sideways"
    path.write_text(json.dumps(data))
    with pytest.raises(FormatError, match="rest"):
        load_mapping(str(path))


def _foot_track(frames: int, fps: float, rng: np.random.Generator) -> np.ndarray:
    """(T, 1, 3) a foot point: planted for a second, swinging for a second, planted again."""
    t = np.arange(frames) / fps
    x = np.clip(t - 1.0, 0.0, 1.0) * 0.6
    z = 0.05 + 0.15 * np.sin(np.pi * np.clip(t - 1.0, 0.0, 1.0))
    points = np.stack([x, np.zeros_like(x), z], axis=-1)[:, None, :]
    return points + rng.normal(scale=0.001, size=points.shape)


def test_contacts_are_found_on_planted_frames_only(rng):
    fps = 30.0
    points = _foot_track(90, fps, rng)
    contact = detect_foot_contacts(points, fps)[:, 0]
    assert contact[:25].all() and contact[65:].all()
    assert not contact[35:55].any()


def test_contacts_follow_a_drifting_floor(rng):
    """A clip whose floor rises by 8 cm in 3 s still gets both planted phases (local floor)."""
    fps = 30.0
    points = _foot_track(90, fps, rng)
    points[..., 2] += np.linspace(0.0, 0.08, 90)[:, None]
    contact = detect_foot_contacts(points, fps, ContactDetection(max_height=0.5))[:, 0]
    assert contact[:20].all() and contact[70:].all()


def test_contact_segments_drop_short_runs():
    flags = np.array([0, 1, 1, 1, 0, 1, 0, 0, 1, 1], dtype=bool)
    assert contact_segments(flags) == [(1, 4), (8, 10)]
    assert contact_segments(flags, min_frames=1) == [(1, 4), (5, 6), (8, 10)]


def test_lock_feet_plants_and_blends(rng):
    frames = 60
    position = np.cumsum(rng.normal(scale=0.01, size=(frames, 3)), axis=0)
    yaw = np.linspace(0.0, 0.5, frames)
    pitch = np.zeros(frames)
    contact = np.zeros(frames, dtype=bool)
    contact[10:25] = contact[40:55] = True
    lock = lock_feet(position, yaw, pitch, contact, planted_height=0.035, blend_frames=4)
    assert lock.segments == [(10, 25), (40, 55)]
    for start, end in lock.segments:
        assert np.ptp(lock.position[start:end], axis=0).max() == 0.0
        assert np.all(lock.position[start:end, 2] == 0.035)
        assert np.ptp(lock.yaw[start:end]) == 0.0
    # Far from any contact the targets are the free ones; next to a segment they move smoothly.
    np.testing.assert_allclose(lock.position[32], position[32])
    jumps = np.linalg.norm(np.diff(lock.position, axis=0), axis=1)
    assert jumps.max() < 0.1


def _heel_and_toe(heel_z: np.ndarray, heel_x: np.ndarray) -> np.ndarray:
    """(T, 4, 3) foot points: left heel and toe moving as given (toe 15 cm ahead, 4 cm lower); the
    right foot standing far away, in the air."""
    frames = len(heel_z)
    points = np.zeros((frames, 4, 3))
    points[:, 0, 0], points[:, 0, 2] = heel_x, heel_z
    points[:, 1, 0], points[:, 1, 2] = heel_x + 0.15, heel_z - 0.04
    points[:, 2:, 1], points[:, 2:, 2] = -0.3, 0.5
    return points


def test_extend_contacts_starts_a_contact_at_touchdown_not_when_the_foot_stops():
    """A generated walk's heel reaches the floor while still moving (skating to a stop): speed-gated
    labels start late; height hysteresis starts the contact where the heel is down."""
    from robomotion.foot_contacts import extend_contacts

    frames = 30
    heel_x = np.r_[np.linspace(0.0, 0.6, 14), 0.6 + 0.06 * np.arange(1, 5), np.full(12, 0.84)]  # skates 24 cm
    heel_z = np.r_[np.linspace(0.20, 0.06, 14), np.full(16, 0.05)]
    labels = np.zeros((frames, 4), dtype=bool)
    labels[18:, :2] = True  # the label starts when the foot has stopped
    extended = extend_contacts(labels, _heel_and_toe(heel_z, heel_x), 30.0)
    assert np.all(extended[labels])  # nothing is removed
    first = int(np.flatnonzero(extended[:, 0])[0])
    assert 15 <= first <= 16  # within 15 cm and 0.15 s of the contact, 1-2 cm above its height
    assert not extended[:, 2:].any()


def test_extend_contacts_leaves_a_skimming_swing_alone():
    """A swing foot that dips near the floor far from any contact of that foot stays a swing foot."""
    from robomotion.foot_contacts import extend_contacts

    frames = 40
    heel_x = np.linspace(0.0, 1.6, frames)
    heel_z = np.full(frames, 0.055)  # 5 mm above its contact height, but moving 1.2 m/s
    labels = np.zeros((frames, 4), dtype=bool)
    labels[:3, :2] = labels[-3:, :2] = True
    extended = extend_contacts(labels, _heel_and_toe(heel_z, heel_x), 30.0)
    assert not extended[8:-8].any()  # the foot travels > 15 cm from each contact: not pinned


def test_sole_clearance_grows_with_foot_speed_and_lands_gently():
    from robomotion.retarget.foot_locks import SwingClearance
    from robomotion.retarget.scaling import sole_clearance

    frames, fps = 40, 30.0
    swing = SwingClearance()
    points = np.zeros((frames, 2, 3))
    points[:, :, 0] = np.r_[np.zeros(10), np.linspace(0.0, 1.5, 20), np.full(10, 1.5)][:, None]  # 2.3 m/s
    points[:, 1, 0] += 0.15
    planted = np.r_[np.ones(10), np.zeros(20), np.ones(10)].astype(bool)
    keep = sole_clearance(points, planted, fps, 0.001, swing)
    assert np.all(keep[planted] == 0.001)  # a planted sole stays on the floor
    assert keep[15:25].min() == pytest.approx(swing.height)  # >= 1 m/s: the full 3 cm
    assert np.all(np.abs(np.diff(keep)) <= swing.landing_speed / fps + 1e-12)  # comes down at <= 0.3 m/s
    # A slow foot (0.3 m/s) keeps 9 mm, more than the 5 mm within which validation counts sliding.
    slow = points.copy()
    slow[:, :, 0] = 0.01 * np.arange(frames)[:, None]
    assert sole_clearance(slow, np.zeros(frames, bool), fps, 0.001, swing)[5:-5] == pytest.approx(0.009)


def test_generated_walk_swing_feet_clear_the_floor_and_plants_hold():
    """Regression for the README demo: no point of a generated walk's soles moves at 1 m/s or more
    within 0.5 cm of the floor (validation's sliding failure), and planted feet hold."""
    from robomotion.retarget import retarget_with_report
    from robomotion.retarget.api import robot_context

    import robomotion
    from robomotion.rotations import quat_to_matrix

    motion = robomotion.load_model()("a person walks forward", duration=3.0, seed=0, progress=False)[0]
    result = retarget_with_report(motion)
    assert result.motion.metadata["retarget"]["contacts"] == "source+detected"
    geometry = robot_context("g1").geometry
    kin, caps, targets, robot = geometry.kinematics, geometry.capsules, result.targets, result.motion
    order = [list(robot.joint_names).index(kin.model.joint(j).name) for j in range(1, kin.model.njnt)]
    pose = kin.forward(robot.root_pos, quat_to_matrix(robot.root_quat), robot.joint_pos[:, order])
    for side, body in enumerate(targets.foot_bodies):
        index = caps.indices_on_bodies(np.array([body]))
        ends = np.concatenate([caps.local_a[index], caps.local_b[index]])
        points = pose.pos[:, body, None] + np.einsum("tij,kj->tki", pose.rot[:, body], ends)
        height = points[..., 2] - np.concatenate([caps.radius[index]] * 2)
        speed = np.linalg.norm(np.gradient(points[..., :2], 1.0 / motion.fps, axis=0), axis=-1)
        skim = np.where(height < 0.005, speed, 0.0).max(axis=1)
        assert skim.max() < 1.0  # validation fails a clip at 1 m/s (it was 2.75 m/s on this walk)
        planted = targets.planted[:, side]
        assert np.abs(height[planted].min(axis=1) - 0.001).max() < 0.01
