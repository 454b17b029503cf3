"""FAIL means "a tracking policy cannot learn this": a fast slice of the labelled corpus, the
corruptions, the floor estimate and alignment, and checks declared as data.

The whole corpus and its confusion table are ``benchmarks/trackability.py``; here one real clip
of each source stays not-FAIL and each corruption kind of one of them FAILs, naming its defect.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from robomotion.envs import validate
from robomotion.envs.validation.checks import DEFAULT_CHECKS, Check, CheckInputs
from robomotion.envs.validation.corpus import (
    _crop,
    g1_moves_clips,
    kimodo_g1_clips,
    retargeted_mocap_clips,
    split_of,
)
from robomotion.envs.validation.corruptions import CORRUPTIONS, EXPECTED_CHECK, NotApplicable, corrupt, window_mask

from robomotion.cli.main import main
from robomotion.findings import threshold_check
from robomotion.floor import align_floor, estimate_floor
from robomotion.formats import load_motion, save_motion
from robomotion.robots import get_robot


@pytest.fixture(scope="module")
def home():
    return get_robot("g1").home_motion(3.0, 30.0)


@pytest.fixture(scope="module")
def fence(shared_dir):
    """6 s of B_Fence1, whose real mjlab policy tracks the whole clip (60 fps, quaternion xyzw)."""
    clip = next(c for c in g1_moves_clips(shared_dir) if c.name == "B_Fence1")
    assert clip.motion.fps == 60.0 and clip.label == "trackable"
    return _crop(clip.motion, 6.0)


# ------------------------------------------------------------------------------ floor


def test_floor_estimate_and_alignment(home):
    assert estimate_floor(home).offset == pytest.approx(0.0, abs=0.002)
    lifted = replace(home, root_pos=home.root_pos + [0.0, 0.0, 0.04])
    estimate = estimate_floor(lifted)
    assert estimate.offset == pytest.approx(0.04, abs=0.002) and estimate.lowest.shape == (home.num_frames,)
    aligned = align_floor(lifted)
    np.testing.assert_allclose(aligned.root_pos[:, 2], home.root_pos[:, 2], atol=0.002)
    assert aligned.metadata["floor_offset_m"] == pytest.approx(0.04, abs=0.002)


def test_small_floor_offsets_are_judged_relative_to_the_clip(home):
    """4 cm in the air: a warning naming the fix, and contact checks as if on the floor (no FAIL)."""
    report = validate(replace(home, root_pos=home.root_pos + [0.0, 0.0, 0.04]), progress=False)
    assert report.verdict == "warn" and report.decisive == ["floor_offset"], report.summary()
    assert "--align-floor" in report.warnings[0].message
    assert report.motion["floor_shift_m"] == pytest.approx(0.04, abs=0.002)
    sunk = validate(replace(home, root_pos=home.root_pos - [0.0, 0.0, 0.12]), progress=False)
    assert "ground_penetration" in {f.check for f in sunk.failures}  # 12 cm: judged against z = 0


def test_convert_align_floor(home, tmp_path, capsys):
    source = save_motion(replace(home, root_pos=home.root_pos + [0.0, 0.0, 0.05]), tmp_path / "high.csv")
    assert main(["convert", str(source), str(tmp_path / "flat.csv"), "--align-floor"]) == 0
    assert "moved the root by -4.9 cm" in capsys.readouterr().out  # the home pose sits 0.5 mm deep
    assert estimate_floor(load_motion(tmp_path / "flat.csv")).offset == pytest.approx(0.0, abs=0.002)


# ------------------------------------------------------------------------------ checks as data


def test_a_user_check_joins_without_touching_the_pipeline(home):
    def pelvis_low(inputs: CheckInputs):
        z = inputs.reference.motion.root_pos[:, 2]
        return threshold_check("pelvis_low", "Pelvis high enough", {"min_m": float(z.min())}, 0.9 - z,
                               inputs.reference.fps, 0.05, 0.1, 0.5, lambda t: f"pelvis at {z[t]:.2f} m", " m")

    report = validate(home, checks=[*DEFAULT_CHECKS, Check("pelvis_low", pelvis_low)], progress=False)
    assert report.verdict == "fail" and report.decisive == ["pelvis_low"]
    capped = validate(home, checks=[*DEFAULT_CHECKS, Check("pelvis_low", pelvis_low, cap="warn")], progress=False)
    assert capped.verdict == "warn"
    informational = validate(home, checks=[Check("pelvis_low", pelvis_low, decides=False)], progress=False)
    assert informational.verdict == "pass" and informational.findings[0].severity == "info"
    assert informational.traces.wrenches is None  # no dynamics check asked for, none computed


# ------------------------------------------------------------------------------ corpus slice


def test_split_is_fixed_by_the_base_clip_name():
    assert split_of("B_Fence1") == "held_out" and split_of("J_Dance2_Salsa") == "train"
    assert split_of("B_Fence1") == split_of("B_Fence1")


@pytest.mark.shared
def test_known_trackable_sources_are_not_failed(shared_dir, fence, tmp_path):
    kimodo = next(iter(kimodo_g1_clips(shared_dir)))
    from robomotion.retarget import retarget

    run = next(iter(retargeted_mocap_clips(shared_dir, tmp_path, ["cmu_8action_train_running_1"], retarget)))
    for motion in (fence, kimodo.motion, run.motion):
        report = validate(motion, progress=False)
        assert report.verdict != "fail", report.summary()


@pytest.mark.shared
@pytest.mark.parametrize("kind", sorted(CORRUPTIONS))
def test_each_impossible_kind_fails_naming_it(shared_dir, fence, kind):
    try:
        motion = corrupt(fence, kind)
    except NotApplicable:  # the fencing dance is too calm for a speed-up beyond the motors: use a walk
        motion = corrupt(next(iter(kimodo_g1_clips(shared_dir))).motion, kind)
    assert motion.metadata["corruption"] == kind
    report = validate(motion, progress=False)
    assert EXPECTED_CHECK[kind] in {f.check for f in report.failures}, report.summary()


def test_corruptions_are_local_and_smooth(home):
    weight = window_mask(home.num_frames, home.fps)
    assert weight[0] == 0.0 and weight[-1] == 0.0 and weight.max() == 1.0
    assert np.abs(np.diff(weight)).max() < 0.25  # no jump: a 0.25 s cosine ramp (7.5 frames)
    floated = corrupt(home, "float")
    assert floated.root_pos[:, 2].max() - home.root_pos[0, 2] == pytest.approx(0.4)
    with pytest.raises(NotApplicable):
        corrupt(home, "speedup")  # standing still cannot be sped up beyond the motors


@pytest.mark.shared
def test_retarget_align_floor(shared_dir, tmp_path, capsys):
    source = shared_dir / "data" / "mocap" / "deepmimic_walk.npz"
    assert main(["retarget", str(source), "-o", str(tmp_path / "walk.csv"), "--align-floor"]) == 0
    assert estimate_floor(load_motion(tmp_path / "walk.csv")).offset == pytest.approx(0.0, abs=1e-3)
