"""Flight phases: a jump keeps falling at g after scaling to the robot (the root's vertical motion
is not scaled in flight), and MuJoCo validation finds less unexplained force in mid-air."""

from __future__ import annotations

import numpy as np
import pytest
from robomotion.retarget.api import retarget_points
from robomotion.retarget.flight import GRAVITY, flight_correction, flight_frames
from robomotion.retarget.scaling import HumanPoints

from robomotion.motion import HumanMotion
from robomotion.rotations import quat_from_rotvec
from robomotion.skeletons import get_skeleton

FPS = 50.0


def _vertical_acceleration(height: np.ndarray, fps: float) -> np.ndarray:
    """(T,) centred second differences of a height (T,), m/s^2 (0 at the ends)."""
    out = np.zeros_like(height)
    out[1:-1] = np.diff(height, n=2) * fps**2
    return out


def _ballistic_height(stand_s: float = 0.4, speed: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """Hip lift (T,), m, of a standing jump: still, a free flight at ``speed`` m/s, still again;
    and the (T,) frames in flight."""
    stand = int(stand_s * FPS)
    air = np.arange(1, int(2 * speed / GRAVITY * FPS)) / FPS
    lift = np.concatenate([np.zeros(stand), speed * air - 0.5 * GRAVITY * air**2, np.zeros(stand)])
    return np.maximum(lift, 0.0), lift > 0.0


def jumping_person() -> tuple[HumanPoints, np.ndarray]:
    """An SMPL-X person (arms down) jumping straight up: rigid lift of the standing pose, feet in
    contact whenever they are on the floor. Returns the points and the (T,) true flight frames."""
    skeleton = get_skeleton("smplx22")
    lift, airborne = _ballistic_height()
    frames = len(lift)
    rotations = np.zeros((frames, skeleton.num_joints, 3))
    rotations[:, skeleton.index("left_shoulder"), 0] = -1.2
    rotations[:, skeleton.index("right_shoulder"), 0] = 1.2
    lowest = skeleton.rest_positions()[:, 2].min()
    root = np.zeros((frames, 3))
    root[:, 2] = -lowest + lift
    motion = HumanMotion(skeleton, FPS, root, quat_from_rotvec(rotations))
    contacts = np.repeat(~airborne[:, None], 4, axis=1)
    return HumanPoints(skeleton, motion.global_positions, FPS, contacts), airborne


def test_flight_frames_are_the_free_fall_not_label_gaps():
    lift, airborne = _ballistic_height()
    assert np.array_equal(flight_frames(lift, ~airborne, FPS), airborne)
    # The same contact gap while the hips move steadily (a walk's unlabelled double support) is no flight.
    assert not flight_frames(np.full(len(lift), 0.9), ~airborne, FPS).any()


def test_flight_correction_restores_gravity_and_keeps_the_height_continuous():
    lift, airborne = _ballistic_height()
    height = 0.9 + lift
    scale = 0.75
    shift = flight_correction(height, scale, airborne, blend_frames=8)
    corrected = scale * height + shift
    inside = np.flatnonzero(airborne)[1:-1]
    np.testing.assert_allclose(_vertical_acceleration(corrected, FPS)[inside], -GRAVITY, atol=1e-6)
    np.testing.assert_allclose(_vertical_acceleration(scale * height, FPS)[inside], -scale * GRAVITY, atol=1e-6)
    # Continuous (no step at take-off or landing) and untouched away from the flight.
    assert np.abs(np.diff(corrected)).max() < 2.0 * np.abs(np.diff(height)).max()
    assert shift[0] == 0.0 and shift[-1] == 0.0


def test_a_retargeted_jump_falls_at_g():
    human, airborne = jumping_person()
    result = retarget_points(human, "g1")
    assert np.array_equal(result.targets.flight, airborne)
    pelvis = result.motion.root_pos[:, 2]
    inside = np.flatnonzero(airborne)[1:-1]
    acceleration = _vertical_acceleration(pelvis, FPS)[inside]
    assert acceleration.mean() == pytest.approx(-GRAVITY, abs=1.0)
    assert np.all(np.abs(acceleration + GRAVITY) < 2.5), acceleration
    assert result.quality.lowest_foot_cm > -1.0 and result.quality.self_collision_frames == 0


def test_mocap_jump_falls_at_g_and_validates_better(shared_dir, monkeypatch):
    """The mocap pack's jump: the pelvis falls like the captured hips do (which fall at ~g; it fell at
    ~0.75 of that before the flight correction), and MuJoCo validation finds less unexplained force
    than without flight handling."""
    from robomotion.envs.validation.api import validate
    from robomotion.retarget import retarget_with_report, scaling

    from robomotion.formats import load_motion

    motion = load_motion(shared_dir / "data" / "mocap" / "cmu_8action_train_jumping_1.npz")
    result = retarget_with_report(motion)
    flight = result.targets.flight
    assert flight.sum() >= 8
    inside = flight.copy()
    inside[1:-1] = flight[1:-1] & flight[:-2] & flight[2:]
    hips = motion.joint_positions(["left_hip", "right_hip"])[..., 2].mean(axis=1)
    human_fall = _vertical_acceleration(hips, motion.fps)[inside].mean()
    assert human_fall == pytest.approx(-GRAVITY, abs=1.0)
    pelvis = result.motion.root_pos[:, 2]
    assert _vertical_acceleration(pelvis, motion.fps)[inside].mean() == pytest.approx(human_fall, abs=1.0)

    # Without flight handling (as before it existed): no flight frames, so no correction either.
    monkeypatch.setattr(scaling, "flight_frames", lambda height, *args: np.zeros(len(height), dtype=bool))
    uncorrected = retarget_with_report(motion).motion
    assert _vertical_acceleration(uncorrected.root_pos[:, 2], motion.fps)[inside].mean() > -0.85 * GRAVITY

    # In the air, the corrected clip needs less force that no contact can give (mean over flight frames).
    residual = [
        validate(m, video=False, progress=False).traces.wrenches.residual_fraction[inside].mean()
        for m in (result.motion, uncorrected)
    ]
    assert residual[0] < 0.9 * residual[1], residual
