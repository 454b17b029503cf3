"""The shipped Unitree G1 MJCF against the official numbers, and its physics at 200 Hz."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import re
import shutil
from pathlib import Path

import mujoco
import numpy as np
import pytest

from robomotion.errors import FormatError, UnknownNameError
from robomotion.robots import get_robot, list_robots
from robomotion.robots.g1 import G1_ROLES
from robomotion.robots.kinematics import forward_kinematics
from robomotion.robots.spec import spec_from_mjcf
from robomotion.rotations import quat_from_rotvec, quat_to_matrix, rotvec_to_matrix

REPO = Path(__file__).resolve().parents[1]
FACTS = Path("robots") / "unitree_g1_29dof.json"


@pytest.fixture(scope="module")
def g1():
    return get_robot("g1")


@pytest.fixture(scope="module")
def model(g1):
    return g1.load_model(scene=False)


@pytest.fixture(scope="module")
def facts(shared_dir):
    return json.loads((shared_dir / FACTS).read_text())


def _expected_home(facts: dict) -> np.ndarray:
    """Home joint angles from the facts sheet (regex patterns, default 0)."""
    angles = []
    for joint in facts["joints"]:
        hits = [v for p, v in facts["home_keyframe"]["joint_pos"].items() if re.fullmatch(p, joint["name"])]
        angles.append(hits[0] if hits else 0.0)
    return np.array(angles)


def _json_fk(facts: dict, root_pos: np.ndarray, root_quat: np.ndarray, angles: np.ndarray):
    """World (positions, rotation matrices) of every body straight from the JSON numbers (no MuJoCo)."""
    joint_of_body = {j["body"]: (i, np.array(j["axis"], float)) for i, j in enumerate(facts["joints"])}
    pos, rot = {}, {}
    for body in facts["bodies"]:  # parents come before children in the JSON
        if body["parent"] == "world":  # the freejoint sets the root pose directly
            pos[body["name"]], rot[body["name"]] = root_pos, quat_to_matrix(root_quat)
        else:
            local_pos = np.zeros(3) if body["pos"] is None else np.array(body["pos"], float)
            local_rot = quat_to_matrix(np.array(body["quat"], float) / np.linalg.norm(body["quat"]))
            parent_pos, parent_rot = pos[body["parent"]], rot[body["parent"]]
            pos[body["name"]] = parent_pos + parent_rot @ local_pos
            rot[body["name"]] = parent_rot @ local_rot
        if body["name"] in joint_of_body:
            index, axis = joint_of_body[body["name"]]
            rot[body["name"]] = rot[body["name"]] @ rotvec_to_matrix(axis * angles[index])
    names = [b["name"] for b in facts["bodies"]]
    return np.stack([pos[n] for n in names]), np.stack([rot[n] for n in names])


# ---------------------------------------------------------------------------------- structure
def test_registry_and_cache(g1):
    assert list_robots() == ["g1"]
    assert get_robot("g1") is g1
    from robomotion.robots.g1 import G1

    assert G1 is g1
    with pytest.raises(UnknownNameError, match="unknown robot 'h1'; expected one of: g1"):
        get_robot("h1")


def test_loads_from_package_data(g1):
    assert g1.mjcf_path.name == "g1.xml" and g1.scene_path.name == "scene.xml"
    assert g1.mjcf_path.parent.name == "unitree_g1" and g1.mjcf_path.is_file()
    scene = g1.load_model()
    assert scene is not g1.load_model()  # a fresh model each call
    assert mujoco.mj_name2id(scene, mujoco.mjtObj.mjOBJ_GEOM, "floor") >= 0
    for camera in ("track", "front"):
        assert mujoco.mj_name2id(scene, mujoco.mjtObj.mjOBJ_CAMERA, camera) >= 0
    assert scene.cam_mode[scene.camera("track").id] == mujoco.mjtCamLight.mjCAMLIGHT_TRACKCOM
    assert scene.vis.quality.offsamples == 0


def test_counts_and_order(g1, model, facts):
    assert (model.nq, model.nv, model.nu, model.nbody, model.njnt) == (36, 35, 29, 31, 30)
    assert g1.num_joints == 29 and g1.num_bodies == 30
    assert g1.joint_names == tuple(j["name"] for j in facts["joints"])
    assert g1.body_names == tuple(b["name"] for b in facts["bodies"])
    assert g1.body_names[0] == g1.root_body == "pelvis"
    assert model.joint(0).name == "floating_base_joint" and model.jnt_type[0] == mujoco.mjtJoint.mjJNT_FREE
    assert [model.actuator(a).name for a in range(model.nu)] == list(g1.joint_names)
    for j, joint in enumerate(facts["joints"]):
        assert model.body(int(model.jnt_bodyid[j + 1])).name == joint["body"]
        np.testing.assert_array_equal(model.jnt_axis[j + 1], joint["axis"])
        np.testing.assert_array_equal(model.jnt_pos[j + 1], 0.0)


def test_semantic_bodies(g1):
    assert g1.anchor_body == "torso_link"
    assert g1.foot_bodies == ("left_ankle_roll_link", "right_ankle_roll_link")
    assert g1.hand_bodies == ("left_wrist_yaw_link", "right_wrist_yaw_link")
    assert len(g1.tracked_bodies) == 14 and set(g1.tracked_bodies) <= set(g1.body_names)
    assert g1.body_indices(list(g1.foot_bodies)).tolist() == [6, 12]
    with pytest.raises(FormatError, match="unknown joint names"):
        g1.joint_indices(["left_knee_joint", "tail_joint"])


def test_options_for_200hz_pd(model):
    assert model.opt.timestep == 0.005
    assert model.opt.integrator == mujoco.mjtIntegrator.mjINT_IMPLICITFAST


# ---------------------------------------------------------------------------------- numbers
def test_total_mass(g1, model, facts):
    assert g1.total_mass == pytest.approx(33.34, abs=0.005)
    assert g1.total_mass == pytest.approx(sum(b["inertial"]["mass"] for b in facts["bodies"]), abs=1e-9)
    assert g1.total_mass == pytest.approx(model.body_subtreemass[1], abs=1e-12)


def test_inertials_match_facts(model, facts):
    for b, body in enumerate(facts["bodies"], start=1):
        inertial = body["inertial"]
        assert model.body_mass[b] == pytest.approx(inertial["mass"], abs=1e-12)
        np.testing.assert_allclose(model.body_ipos[b], inertial["pos"], atol=1e-12)
        np.testing.assert_allclose(model.body_inertia[b], inertial["diaginertia"], rtol=1e-9)
        quat = np.array(inertial["quat"]) / np.linalg.norm(inertial["quat"])
        assert abs(np.dot(model.body_iquat[b], quat)) == pytest.approx(1.0, abs=1e-9)


def test_joint_and_actuator_figures(g1, model, facts):
    joints = facts["joints"]
    np.testing.assert_array_equal(g1.joint_limits, [j["range"] for j in joints])
    np.testing.assert_array_equal(g1.velocity_limits, [j["velocity_limit"] for j in joints])
    np.testing.assert_array_equal(g1.effort_limits, [j["effort_limit"] for j in joints])
    np.testing.assert_allclose(g1.kp, [j["kp"] for j in joints], rtol=1e-12)
    np.testing.assert_allclose(g1.kd, [j["kd"] for j in joints], rtol=1e-12)
    np.testing.assert_allclose(g1.armature, [j["armature"] for j in joints], rtol=1e-12)
    # the PD convention of the facts sheet: 10 Hz natural frequency, damping ratio 2
    omega = 2 * np.pi * 10
    np.testing.assert_allclose(g1.kp, g1.armature * omega**2, rtol=1e-9)
    np.testing.assert_allclose(g1.kd, 2 * 2.0 * g1.armature * omega, rtol=1e-9)
    assert np.all(model.jnt_limited[1:]) and np.all(model.actuator_forcelimited) and np.all(model.actuator_ctrllimited)
    np.testing.assert_array_equal(model.actuator_ctrlrange, g1.joint_limits)
    np.testing.assert_array_equal(model.actuator_forcerange[:, 0], -g1.effort_limits)
    assert not g1.kp.flags.writeable and not g1.home_joint_pos.flags.writeable


def test_home_keyframe(g1, model, facts):
    home = _expected_home(facts)
    np.testing.assert_array_equal(g1.home_joint_pos, home)
    np.testing.assert_array_equal(g1.home_root_pos, facts["home_keyframe"]["root_pos"])
    np.testing.assert_array_equal(g1.home_root_quat, [1, 0, 0, 0])
    assert g1.home_qpos.shape == (36,)
    key = model.key("home")
    np.testing.assert_array_equal(key.qpos, g1.home_qpos)
    np.testing.assert_array_equal(key.ctrl, home)
    motion = g1.home_motion(seconds=2.0, fps=25.0)
    assert motion.num_frames == 50 and motion.robot == "g1" and motion.joint_names == g1.joint_names
    np.testing.assert_array_equal(motion.qpos(), np.tile(g1.home_qpos, (50, 1)))


def test_collision_geoms_sites_and_excludes(model, facts):
    for body in facts["bodies"]:
        for geom in body["collision_geoms"]:
            g = model.geom(geom["name"])
            assert model.body(int(g.bodyid[0])).name == body["name"]
            assert g.size[0] == pytest.approx(geom["size"][0], abs=1e-12)
            assert (g.contype[0], g.conaffinity[0], g.group[0]) == (1, 1, 3)
        for site in body["sites"]:
            np.testing.assert_allclose(model.site(site["name"]).pos, site["pos"], atol=1e-12)
    collision = sum(len(b["collision_geoms"]) for b in facts["bodies"])
    visual = [g for g in range(model.ngeom) if model.geom_group[g] == 2]
    assert len(visual) + collision == model.ngeom and len(visual) >= 25
    assert np.all(model.geom_contype[visual] == 0) and np.all(model.geom_conaffinity[visual] == 0)
    assert len({model.geom_matid[g] for g in visual}) == 2
    pairs = {
        frozenset((model.body(int(b1)).name, model.body(int(b2)).name))
        for b1, b2 in ((e >> 16, e & 0xFFFF) for e in model.exclude_signature)
    }
    assert pairs == {frozenset(p) for p in facts["contact_excludes"]}
    assert {model.sensor(s).name for s in range(model.nsensor)} == {s.split(":")[1] for s in facts["sensors_in_source"]}


def test_fk_matches_facts_at_random_configurations(g1, model, facts, rng):
    frames = 64
    lo, hi = g1.joint_limits.T
    angles = rng.uniform(lo, hi, size=(frames, 29))
    root_pos = rng.uniform(-2.0, 2.0, size=(frames, 3))
    root_quat = quat_from_rotvec(rng.normal(size=(frames, 3)))
    qpos = np.concatenate([root_pos, root_quat, angles], axis=1)
    pos, quat = forward_kinematics(model, qpos)
    worst_pos, worst_rot = 0.0, 0.0
    for t in range(frames):
        expected_pos, expected_rot = _json_fk(facts, root_pos[t], root_quat[t], angles[t])
        worst_pos = max(worst_pos, np.abs(pos[t] - expected_pos).max())
        worst_rot = max(worst_rot, np.abs(quat_to_matrix(quat[t]) - expected_rot).max())
    assert worst_pos < 1e-3  # the contract: every body within 1 mm
    assert worst_pos < 1e-9 and worst_rot < 1e-9  # in fact: the same numbers


def test_generator_reproduces_committed_files(shared_dir, tmp_path):
    spec = importlib.util.spec_from_file_location("build_g1_mjcf", REPO / "tools" / "build_g1_mjcf.py")
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    builder.main(["--facts", str(shared_dir / FACTS), "--out", str(tmp_path)])
    for name in ("g1.xml", "scene.xml"):
        committed = (REPO / "models" / "unitree_g1" / name).read_text()
        assert (tmp_path / name).read_text() == committed, f"{name} is stale: run tools/build_g1_mjcf.py"


@pytest.mark.parametrize(
    ("pattern", "field"),
    [
        (r'\s*<numeric name="velocity_limit_left_knee_joint" data="20" />', "velocity_limit_left_knee_joint"),
        (r'joint="waist_yaw_joint" kp', "actuator"),
        (r'\s*<key name="home"[^>]*/>', "keyframe"),
        (r'\s*<site name="left_palm"[^>]*/>', "hand_sites"),
        (r' forcerange="-88 88"', "forcerange"),
        (r"</worldbody>", "mjcf"),
    ],
)
def test_spec_rejects_incomplete_mjcf(g1, tmp_path, pattern, field):
    text = g1.mjcf_path.read_text()
    broken, count = re.subn(pattern, 'joint="waist_roll_joint" kp' if field == "actuator" else "", text)
    assert count >= 1
    path = tmp_path / "g1.xml"
    path.write_text(broken)
    with pytest.raises(FormatError) as error:
        spec_from_mjcf("g1", path, path, G1_ROLES)
    assert error.value.field == field and error.value.path == path and str(path) in str(error.value)


def test_contact_parameters(model):
    """mjlab's FULL_COLLISION: feet condim 3, friction 0.6, priority 1; frictionless self-collisions."""
    collision = np.flatnonzero(model.geom_group == 3)
    feet = [g for g in collision if re.fullmatch(r"(left|right)_foot[1-7]_collision", model.geom(g).name)]
    others = sorted(set(collision) - set(feet))
    assert len(feet) == 14
    assert np.all(model.geom_condim[feet] == 3) and np.all(model.geom_priority[feet] == 1)
    np.testing.assert_array_equal(model.geom_friction[feet, 0], 0.6)
    assert np.all(model.geom_condim[others] == 1) and np.all(model.geom_priority[others] == 0)


def test_imu_upvector_is_world_z_in_the_imu_frame(g1, model):
    data = mujoco.MjData(model)
    data.qpos[:] = g1.home_qpos
    mujoco.mj_forward(model, data)
    np.testing.assert_allclose(data.sensor("imu_upvector").data, [0, 0, 1], atol=1e-12)
    data.qpos[3:7] = quat_from_rotvec(np.array([0.0, np.pi / 2, 0.0]))  # pitched nose-down by 90 degrees
    mujoco.mj_forward(model, data)
    np.testing.assert_allclose(data.sensor("imu_upvector").data, [-1, 0, 0], atol=1e-12)  # world z in the IMU frame


def test_spec_rejects_unknown_role_bodies(g1):
    roles = dataclasses.replace(G1_ROLES, anchor_body="chest_link")
    with pytest.raises(FormatError, match=r"anchor_body names \['chest_link'\]") as error:
        spec_from_mjcf("g1", g1.mjcf_path, g1.scene_path, roles)
    assert error.value.field == "anchor_body"


# ---------------------------------------------------------------------------------- physics
def _torso_tilt_deg(model: mujoco.MjModel, data: mujoco.MjData) -> float:
    up_z = data.xmat[model.body("torso_link").id][8]
    return float(np.degrees(np.arccos(np.clip(up_z, -1.0, 1.0))))


def test_home_pose_touches_only_the_floor(g1):
    model = g1.load_model()
    data = mujoco.MjData(model)
    mujoco.mj_resetDataKeyframe(model, data, model.key("home").id)
    mujoco.mj_forward(model, data)
    floor = model.geom("floor").id
    bodies = {
        model.body(int(model.geom_bodyid[c.geom[1] if c.geom[0] == floor else c.geom[0]])).name
        for c in data.contact[: data.ncon]
    }
    assert all(floor in c.geom for c in data.contact[: data.ncon])
    assert bodies == set(g1.foot_bodies)


def test_stands_two_seconds_held_by_stiff_pd(g1):
    """Floor contact and 200 Hz PD integration are stable: the G1 stands at home for 2 s.

    The facts sheet's gains (10 Hz on the rotor inertia) are too soft to hold a standing robot
    without a policy (two ankles give 57 N*m/rad against ~210 N*m/rad of gravity), so this test
    holds the pose with the model's own actuators stiffened 10x (kv by sqrt(10): same damping ratio).
    """
    model = g1.load_model()
    model.actuator_gainprm[:, 0] *= 10.0
    model.actuator_biasprm[:, 1] *= 10.0
    model.actuator_biasprm[:, 2] *= np.sqrt(10.0)
    data = mujoco.MjData(model)
    mujoco.mj_resetDataKeyframe(model, data, model.key("home").id)
    worst_tilt = 0.0
    for _ in range(round(2.0 / model.opt.timestep)):
        mujoco.mj_step(model, data)
        worst_tilt = max(worst_tilt, _torso_tilt_deg(model, data))
    assert data.warning[mujoco.mjtWarning.mjWARN_BADQACC].number == 0
    assert worst_tilt < 5.0
    assert data.qpos[2] == pytest.approx(g1.home_root_pos[2], abs=0.01)
    assert np.linalg.norm(data.qpos[:2]) < 0.05
    assert np.abs(data.qpos[7:] - g1.home_joint_pos).max() < 0.05


def test_nominal_gains_stay_numerically_sane(g1):
    """With the facts-sheet gains the unassisted robot sinks and falls, but the physics never blows up."""
    model = g1.load_model()
    data = mujoco.MjData(model)
    mujoco.mj_resetDataKeyframe(model, data, model.key("home").id)
    for _ in range(round(2.0 / model.opt.timestep)):
        mujoco.mj_step(model, data)
    assert data.warning[mujoco.mjtWarning.mjWARN_BADQACC].number == 0
    assert np.all(np.isfinite(data.qpos)) and data.qpos[2] > 0.03
    lo, hi = g1.joint_limits.T
    assert np.all(data.qpos[7:] >= lo - 0.05) and np.all(data.qpos[7:] <= hi + 0.05)


def test_scene_copy_is_self_contained(g1, tmp_path):
    """scene.xml only needs g1.xml next to it (no meshes or other assets)."""
    for path in (g1.mjcf_path, g1.scene_path):
        shutil.copy(path, tmp_path / path.name)
    model = mujoco.MjModel.from_xml_path(str(tmp_path / "scene.xml"))
    assert model.nmesh == 0 and model.nu == 29
