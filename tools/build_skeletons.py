"""Regenerate ``models/skeletons/*.json`` from the skeleton tables of the facts sheet.

Developer tool, not part of the package: it reads
``../shared/docs/kimodo_formats_and_skeletons.md`` (Appendices A-D), converts Kimodo's
y-up/+Z-forward axes into robomotion's z-up/+X-forward axes and writes one JSON file per
built-in skeleton. The JSON files are committed; the package never reads ``../shared``.

Usage: ``python tools/build_skeletons.py [--facts PATH] [--out models/skeletons]``
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import numpy as np

# Kimodo (x=left, y=up, z=forward) -> robomotion (x=forward, y=left, z=up): p = C @ p_k
C = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])

SOMA_ROLES = {
    "pelvis": "Hips", "spine": "Spine1", "chest": "Chest", "neck": "Neck1", "head": "Head",
    "left_hip": "LeftLeg", "right_hip": "RightLeg", "left_knee": "LeftShin", "right_knee": "RightShin",
    "left_ankle": "LeftFoot", "right_ankle": "RightFoot", "left_toe": "LeftToeBase", "right_toe": "RightToeBase",
    "left_collar": "LeftShoulder", "right_collar": "RightShoulder",
    "left_shoulder": "LeftArm", "right_shoulder": "RightArm", "left_elbow": "LeftForeArm",
    "right_elbow": "RightForeArm", "left_wrist": "LeftHand", "right_wrist": "RightHand",
}
#: SMPL/SMPL-X joints are named after their roles, except these.
SMPL_RENAMED = {"spine": "spine1", "chest": "spine3", "left_toe": "left_foot", "right_toe": "right_foot"}
SMPL_ROLES = {role: SMPL_RENAMED.get(role, role) for role in SOMA_ROLES}
G1_ROLES = {
    "pelvis": "pelvis_skel", "chest": "waist_pitch_skel",
    "left_hip": "left_hip_pitch_skel", "right_hip": "right_hip_pitch_skel",
    "left_knee": "left_knee_skel", "right_knee": "right_knee_skel",
    "left_ankle": "left_ankle_roll_skel", "right_ankle": "right_ankle_roll_skel",
    "left_toe": "left_toe_base", "right_toe": "right_toe_base",
    "left_shoulder": "left_shoulder_pitch_skel", "right_shoulder": "right_shoulder_pitch_skel",
    "left_elbow": "left_elbow_skel", "right_elbow": "right_elbow_skel",
    "left_wrist": "left_wrist_yaw_skel", "right_wrist": "right_wrist_yaw_skel",
}

SOMA30_FROM_77 = [0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 18, 28, 39, 40, 41, 42, 46, 56, 67, 68, 69, 70, 72, 73, 74, 75]


def _section(text: str, title: str) -> list[list[str]]:
    start = text.index(title)
    rows = []
    for line in text[start:].splitlines()[1:]:
        if line.startswith("## ") or line.startswith("### ") and rows:
            break
        if line.startswith("| ") and not line.startswith("| idx") and not set(line) <= set("|- "):
            rows.append([c.strip() for c in line.strip().strip("|").split("|")])
    return rows


def _vec(cell: str) -> list[float]:
    return [float(v) for v in re.findall(r"-?\d+\.?\d*(?:e-?\d+)?", cell)]


def _to_internal(v: np.ndarray) -> np.ndarray:
    return v @ C.T


def _quat_to_internal(q_wxyz: np.ndarray) -> np.ndarray:
    # R_int = C R_k C^T  <=>  quaternion vector part rotated by C
    return np.concatenate([q_wxyz[..., :1], q_wxyz[..., 1:] @ C.T], axis=-1)


def _write(out: Path, name: str, joints, parents, offsets, roles, extras=None, description="") -> None:
    data = {
        "name": name,
        "description": description,
        "frame": "z-up, +x forward, +y left, metres; offsets in the parent's rest frame",
        "joint_names": list(joints),
        "parents": [int(p) for p in parents],
        "offsets": np.round(np.asarray(offsets), 6).tolist(),
        "roles": roles,
        "extras": {k: np.round(np.asarray(v), 6).tolist() for k, v in (extras or {}).items()},
    }
    (out / f"{name}.json").write_text(json.dumps(data, indent=1) + "\n")


def build(facts: Path, out: Path) -> None:
    text = facts.read_text()
    out.mkdir(parents=True, exist_ok=True)

    # --- SOMA 77 (Appendix A): T-pose offsets in cm; SEED-rest offsets and O_j for BVH.
    rows = _section(text, "## Appendix A")
    names77 = [r[1] for r in rows]
    parents77 = [int(r[2]) for r in rows]
    tpose_offsets = np.array([_vec(r[5]) for r in rows]) / 100.0
    seed_offsets = np.array([_vec(r[6]) for r in rows]) / 100.0
    o_j = np.array([_vec(r[7]) for r in rows])
    tpose_offsets = _to_internal(tpose_offsets)
    relaxed = np.zeros((77, 3))
    for r in _section(text, "## Appendix B"):
        vals = _vec(r[2])
        relaxed[int(r[0])] = vals[:3] if len(vals) >= 3 else 0.0
    _write(
        out, "soma77", names77, parents77, tpose_offsets, SOMA_ROLES,
        extras={
            # BONES-SEED BVH rest layout, kept in Kimodo's own axes (y-up, cm) as the BVH stores it.
            "seed_rest_offsets_cm_kimodo_axes": seed_offsets * 100.0,
            # O_j: global rotation of each SEED joint frame in the standard T-pose, Kimodo axes, wxyz.
            "seed_rest_global_rotations_kimodo_axes": o_j,
            # Relaxed-hands local pose used to expand SOMA30 outputs to 77 joints (axis-angle, internal axes).
            "relaxed_hands_rotvec": _to_internal(relaxed),
        },
        description="SOMA 77-joint skeleton (Kimodo somaskel77), standard T-pose rest, facing +x.",
    )

    # --- SOMA 30: selection of 77; ThumbEnd/MiddleEnd hang off the Hand.
    rest77 = np.zeros((77, 3))
    for j in range(1, 77):
        rest77[j] = rest77[parents77[j]] + tpose_offsets[j]
    names30 = [names77[i] for i in SOMA30_FROM_77]
    parents30 = []
    for i in SOMA30_FROM_77:
        p = parents77[i]
        while p != -1 and p not in SOMA30_FROM_77:
            p = parents77[p]
        parents30.append(-1 if p == -1 else SOMA30_FROM_77.index(p))
    offsets30 = np.array(
        [rest77[i] - (rest77[SOMA30_FROM_77[p]] if p >= 0 else rest77[i]) for i, p in zip(SOMA30_FROM_77, parents30)]
    )
    _write(
        out, "soma30", names30, parents30, offsets30, SOMA_ROLES,
        extras={"index_in_soma77": np.array(SOMA30_FROM_77)},
        description="SOMA 30-joint model skeleton (Kimodo somaskel30), standard T-pose rest, facing +x.",
    )

    # --- G1 34 (Appendix C): rest global positions in metres.
    rows = _section(text, "### G1Skeleton34")
    names_g1 = [r[1] for r in rows]
    parents_g1 = [int(r[2]) for r in rows]
    rest_g1 = _to_internal(np.array([_vec(r[3]) for r in rows]))
    offsets_g1 = np.array([rest_g1[j] - (rest_g1[p] if p >= 0 else rest_g1[j]) for j, p in enumerate(parents_g1)])
    _write(
        out, "g1skel34", names_g1, parents_g1, offsets_g1, G1_ROLES,
        description="Kimodo's 34-joint G1 skeleton (29 hinges + pelvis + toe/hand end points), rest = MJCF offsets without body quats.",
    )

    # --- SMPL-X 22 (Appendix D): neutral joint positions with Kimodo's fixed betas.
    rows = _section(text, "### SMPLXSkeleton22")
    names_x = [r[1] for r in rows]
    parents_x = [int(r[2]) for r in rows]
    rest_x = np.array([_vec(r[3]) for r in rows])
    pelvis_rest_smplx_frame = rest_x[0].copy()
    rest_x = _to_internal(rest_x)
    offsets_x = np.array([rest_x[j] - (rest_x[p] if p >= 0 else rest_x[j]) for j, p in enumerate(parents_x)])
    betas_line = text[text.index("Fixed `betas`"):].splitlines()[0]
    betas = _vec(betas_line[betas_line.index("["):])
    _write(
        out, "smplx22", names_x, parents_x, offsets_x, SMPL_ROLES,
        extras={"pelvis_rest_smplx_frame": pelvis_rest_smplx_frame, "amass_betas": np.array(betas)},
        description="SMPL-X 22 body joints with Kimodo's fixed betas; rest = SMPL-X zero pose, facing +x.",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    root = Path(__file__).resolve().parents[1]
    parser.add_argument("--facts", type=Path, default=root.parent / "shared/docs/kimodo_formats_and_skeletons.md")
    parser.add_argument("--out", type=Path, default=root / "models/skeletons")
    args = parser.parse_args()
    build(args.facts, args.out)


if __name__ == "__main__":
    main()
