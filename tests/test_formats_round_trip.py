"""Everything robomotion writes reads back: every input kind x every output format.

A pair the output format cannot store (a human motion as a robot CSV, a SOMA body as AMASS)
must be refused with a FormatError and leave no file; every other pair must write a file that
reads back as the same kind of motion, covering the same time, with the same poses where the
format keeps the body as it is.
"""

from __future__ import annotations

import numpy as np
import pytest
from motion_samples import SAMPLES

from robomotion.errors import FormatError
from robomotion.formats import FORMATS, load_motion, save_motion
from robomotion.motion import HumanMotion, RobotMotion

WRITABLE = [f for f in FORMATS.values() if f.writer is not None]
#: Joint counts of the human skeletons each format stores (None: any skeleton).
HUMAN_JOINT_COUNTS: dict[str, tuple[int, ...] | None] = {
    "kimodo-npz": (77, 30, 22),
    "amass-npz": (22,),
    "mocap-npz": (22,),
    "bvh": None,
    "g1-csv": (),
    "beyondmimic-npz": (),
}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("inputs")
    return {kind: load_motion(build(folder)) for kind, build in SAMPLES.items()}


def _same_body(a: HumanMotion, b: HumanMotion) -> bool:
    if set(a.skeleton.joint_names) != set(b.skeleton.joint_names):
        return False
    order = a.skeleton.indices(b.skeleton.joint_names)
    return np.allclose(a.skeleton.offsets[order], b.skeleton.offsets, atol=1e-3)


@pytest.mark.parametrize("output", [f.name for f in WRITABLE])
@pytest.mark.parametrize("kind", list(SAMPLES))
def test_every_written_file_reads_back(inputs, tmp_path, kind: str, output: str) -> None:
    motion = inputs[kind]
    spec = FORMATS[output]
    path = tmp_path / f"out{spec.suffixes[0]}"
    counts = HUMAN_JOINT_COUNTS[output]
    storable = spec.accepts(motion) and (
        isinstance(motion, RobotMotion) or counts is None or motion.skeleton.num_joints in counts
    )
    if not storable:
        with pytest.raises(FormatError):
            save_motion(motion, path, format=output)
        assert list(tmp_path.iterdir()) == []
        return
    save_motion(motion, path, format=output)
    back = load_motion(path, format=output, **({"fps": motion.fps} if output == "g1-csv" else {}))
    assert type(back) is type(motion)
    assert back.duration == pytest.approx(motion.duration, abs=2.0 / min(back.fps, motion.fps))
    if isinstance(motion, RobotMotion):
        assert back.joint_names == motion.joint_names or set(back.joint_names) == set(motion.joint_names)
        order = [back.joint_names.index(n) for n in motion.joint_names]
        np.testing.assert_allclose(back.joint_pos[0, order], motion.joint_pos[0], atol=2e-3)
        np.testing.assert_allclose(back.root_pos[0], motion.root_pos[0], atol=1e-4)
    elif _same_body(motion, back):
        order = motion.skeleton.indices(back.skeleton.joint_names)
        np.testing.assert_allclose(back.global_positions[0], motion.global_positions[0][order], atol=0.01)


def test_a_mocap_clip_with_its_own_bone_lengths_reads_back_from_kimodo_npz(inputs, tmp_path) -> None:
    """Regression: such a clip was written with posed_joints that its own reader refused (15.9 cm off)."""
    clip = inputs["mocap-npz"]
    path = save_motion(clip, tmp_path / "k.npz", format="kimodo-npz")
    back = load_motion(path)
    assert back.skeleton.name == "smplx22"
    assert back.metadata["posed_joints_max_error_m"] < 1e-3
    # The body is put on Kimodo's fixed SMPL-X shape: the pelvis height scales with the leg length.
    assert back.root_translation[0, 2] == pytest.approx(clip.root_translation[0, 2] / 1.08, rel=0.05)
