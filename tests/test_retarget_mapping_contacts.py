"""Mapping files, contact detection and foot locks of the retargeter."""

from __future__ import annotations

import json

import numpy as np
import pytest

from robomotion.errors import FormatError, UnknownNameError
from robomotion.retarget.contacts import ContactDetection, contact_segments, detect_foot_contacts, lock_feet
from robomotion.retarget.mapping import list_mappings, load_mapping, mapping_for_skeleton
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
