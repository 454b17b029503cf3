"""Foot cleanup of generated motions: contacts from touchdown, pins on the floor, no penetration."""

from __future__ import annotations

import numpy as np

from robomotion.generators.postprocess import clean_feet, foot_contacts, postprocess_motion
from robomotion.motion import FOOT_CONTACT_ROLES, HumanMotion
from robomotion.rotations import quat_from_rotvec
from robomotion.skeletons import get_skeleton

SKELETON = get_skeleton("smplx22")
FRAMES = 40


def _bent_legs(root: np.ndarray, contacts: np.ndarray) -> HumanMotion:
    """A standing pose with bent knees (so the legs can reach a pinned foot) on ``root`` (T, 3)."""
    rotvecs = np.zeros((len(root), SKELETON.num_joints, 3))
    for side in ("left", "right"):
        rotvecs[:, SKELETON.index(f"{side}_hip"), 1] = -0.5
        rotvecs[:, SKELETON.index(f"{side}_knee"), 1] = 1.0
        rotvecs[:, SKELETON.index(f"{side}_ankle"), 1] = -0.5
    motion = HumanMotion(SKELETON, 30.0, root, quat_from_rotvec(rotvecs), foot_contacts=contacts)
    lowest = motion.joint_positions(FOOT_CONTACT_ROLES)[..., 2].min(axis=1)
    root = root.copy()
    root[:, 2] -= lowest  # the lowest foot joint of every frame on z = 0
    return HumanMotion(SKELETON, 30.0, root, quat_from_rotvec(rotvecs), foot_contacts=contacts)


def test_a_foot_landing_while_moving_is_pinned_from_touchdown():
    # The body (feet on the floor) moves at 0.6 m/s until frame 20, then stands; the labels start
    # late (frame 23), as the model's do.
    x = np.minimum(np.arange(FRAMES), 20) * 0.02
    root = np.stack([x, np.zeros(FRAMES), np.zeros(FRAMES)], axis=-1)
    labels = np.zeros((FRAMES, 4), dtype=bool)
    labels[23:] = True
    motion = _bent_legs(root, labels)
    cleaned = clean_feet(motion, labels)
    contact = foot_contacts(motion, labels)[0][:, 0]
    assert contact[23:].all() and contact[:20].any()  # the contact starts at touchdown, before the stop
    ankle = cleaned.joint_positions(["left_ankle"])[contact, 0]
    drift = np.linalg.norm(ankle[:, :2] - ankle[0, :2], axis=-1)
    assert drift.max() < 0.01
    moving = motion.joint_positions(["left_ankle"])[contact, 0]
    assert np.linalg.norm(moving[-1, :2] - moving[0, :2]) > 0.05  # it did skate before the cleanup


def test_no_foot_point_below_the_floor_after_postprocess():
    # Standing, sinking 3 cm into the floor in the middle of the clip (a generated artefact).
    sink = 0.03 * np.sin(np.linspace(0.0, np.pi, FRAMES))
    root = np.stack([np.zeros(FRAMES), np.zeros(FRAMES), np.zeros(FRAMES)], axis=-1)
    motion = _bent_legs(root, np.ones((FRAMES, 4), dtype=bool))
    motion = HumanMotion(SKELETON, 30.0, motion.root_translation - sink[:, None] * [0, 0, 1],
                         motion.local_rotations, foot_contacts=motion.foot_contacts)
    assert motion.joint_positions(FOOT_CONTACT_ROLES)[..., 2].min() < -0.02
    cleaned = postprocess_motion(motion, (), motion.foot_contacts)
    heights = cleaned.joint_positions(FOOT_CONTACT_ROLES)[..., 2]
    assert heights.min(axis=1).min() > -0.005
    assert heights.min(axis=1).max() < 0.005  # planted feet stay on the floor: no floating


def _lifted(lift: np.ndarray) -> HumanMotion:
    base = _bent_legs(np.zeros((len(lift), 3)), np.zeros((len(lift), 4), dtype=bool))
    root = base.root_translation.copy()
    root[:, 2] += lift
    return HumanMotion(SKELETON, 30.0, root, base.local_rotations)


def test_grounding_puts_a_long_hover_on_the_floor_and_keeps_a_ballistic_hop():
    from robomotion.generators.evaluation import measure_motion
    from robomotion.generators.postprocess import Grounding, ground_motion

    lift = np.zeros(150)
    lift[30:90] = 0.5  # 2 s hovering half a metre up: impossible
    grounded = ground_motion(_lifted(lift))
    measures = measure_motion(grounded)
    assert measures.longest_off_floor <= Grounding().max_flight
    assert grounded.global_positions[75:, :, 2].min(axis=1).max() < 0.12  # after the kept flight: on the floor
    t = np.arange(15) / 30.0
    hop = np.zeros(150)
    hop[60:75] = 0.1 + 0.5 * 9.81 * (t + 1 / 60) * (0.5 - t - 1 / 60) * 0.9  # a 0.5 s ballistic hop
    kept = ground_motion(_lifted(hop))
    np.testing.assert_allclose(kept.root_translation, _lifted(hop).root_translation)
