"""Generate ``models/unitree_g1/g1.xml`` and ``scene.xml`` from the G1 facts sheet.

Developer tool, not part of the package: it reads ``../shared/robots/unitree_g1_29dof.json``
(every number of Unitree's G1 29-DoF description, BSD-3-Clause) and writes our own MJCF:

* ``g1.xml``: 30 bodies (pelvis on a freejoint ``floating_base_joint``), 29 limited hinges in
  the facts-sheet order, exact inertials and armature, the collision primitives with their
  classes, sites, IMU sensors, contact excludes, one position actuator per hinge (kp, kv,
  force range = effort limit, control range = joint range), per-joint velocity limits as
  ``<custom><numeric name="velocity_limit_<joint>">``, simple visual geoms (two materials) and
  the ``home`` keyframe. Physics: 5 ms steps (200 Hz), implicitfast integrator.
* ``scene.xml``: includes ``g1.xml``; checker floor, skybox, light, a tracking camera ``track``
  and a fixed camera ``front``; ``offsamples=0`` so CPU (llvmpipe) rendering is fast.

The generated files are committed; :mod:`robomotion.robots` parses them (the MJCF is the single
source of truth) and the package never reads ``../shared``.

Usage: ``python tools/build_g1_mjcf.py [--facts PATH] [--out models/unitree_g1]``
"""

from __future__ import annotations

import argparse
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from robomotion.atomic import write_text

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_FACTS = ROOT.parent / "shared" / "robots" / "unitree_g1_29dof.json"
DEFAULT_OUT = ROOT / "models" / "unitree_g1"

TIMESTEP = 0.005  # s: 200 Hz physics, as in mjlab/BeyondMimic (50 Hz control, decimation 4)

MATERIALS = {"g1_dark": "0.18 0.19 0.21 1", "g1_light": "0.78 0.79 0.80 1"}

# Visual capsule radius (m) of each link (side prefix removed), drawn from the body origin to
# each child's origin; links not listed get no capsule.
LINK_RADIUS = {
    "hip_pitch_link": 0.045,
    "hip_roll_link": 0.055,
    "hip_yaw_link": 0.06,
    "knee_link": 0.048,
    "waist_yaw_link": 0.04,
    "shoulder_pitch_link": 0.036,
    "shoulder_roll_link": 0.034,
    "shoulder_yaw_link": 0.038,
    "elbow_link": 0.033,
    "wrist_roll_link": 0.027,
    "wrist_pitch_link": 0.027,
}
DARK_LINKS = {
    "hip_pitch_link",
    "hip_roll_link",
    "waist_yaw_link",
    "shoulder_pitch_link",
    "shoulder_roll_link",
    "wrist_roll_link",
    "wrist_pitch_link",
}

SENSORS = {  # name -> (MJCF element, attributes); the five sensors of the source model (upvector: world z in IMU frame)
    "imu_ang_vel": ("gyro", {"site": "imu_in_pelvis"}),
    "imu_lin_vel": ("velocimeter", {"site": "imu_in_pelvis"}),
    "imu_lin_acc": ("accelerometer", {"site": "imu_in_pelvis"}),
    "imu_upvector": (
        "framezaxis",
        {"objtype": "body", "objname": "world", "reftype": "site", "refname": "imu_in_pelvis"},
    ),
    "root_angmom": ("subtreeangmom", {"body": "pelvis"}),
}


def fmt(values: float | Iterable[float]) -> str:
    """MJCF number list with shortest round-trip reprs (exact JSON values, no ``.0`` noise)."""
    items = [values] if np.isscalar(values) else list(values)
    out = []
    for v in items:
        text = repr(float(v))
        text = text[:-2] if text.endswith(".0") else text
        out.append("0" if text == "-0" else text)
    return " ".join(out)


def side_free(name: str) -> str:
    return re.sub(r"^(left|right)_", "", name)


def sub(parent: ET.Element, tag: str, **attrs: str) -> ET.Element:
    return ET.SubElement(parent, tag, {k.rstrip("_"): v for k, v in attrs.items()})


def home_joint_pos(facts: dict) -> dict[str, float]:
    """Home angle of every joint: the keyframe's regex patterns, first match wins, default 0."""
    patterns = facts["home_keyframe"]["joint_pos"]
    home = {}
    for joint in facts["joints"]:
        home[joint["name"]] = 0.0
        for pattern, value in patterns.items():
            if re.fullmatch(pattern, joint["name"]):
                home[joint["name"]] = float(value)
                break
    return home


def look_at_xyaxes(pos: np.ndarray, target: np.ndarray) -> str:
    """Camera ``xyaxes`` looking from ``pos`` at ``target`` with z up (MuJoCo cameras look along -z)."""
    forward = (target - pos) / np.linalg.norm(target - pos)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, forward)
    return fmt(np.round(np.concatenate([right, up]), 4))


# ---------------------------------------------------------------------------------- g1.xml parts
def add_defaults(root: ET.Element) -> None:
    defaults = sub(root, "default")
    g1 = sub(defaults, "default", class_="g1")
    sub(g1, "site", size="0.01", rgba="1 0.2 0.2 1", group="5")
    visual = sub(g1, "default", class_="visual")
    sub(visual, "geom", type="capsule", group="2", contype="0", conaffinity="0", density="0", material="g1_light")
    # Contact parameters of mjlab's FULL_COLLISION: frictionless self-collisions (condim 1); the
    # feet get condim 3, friction 0.6 and priority 1 (their friction wins against the floor's).
    collision = sub(g1, "default", class_="collision")
    sub(collision, "geom", type="capsule", group="3", contype="1", conaffinity="1", condim="1", rgba="0.2 0.6 0.3 0.4")
    foot = sub(collision, "default", class_="foot_capsule")
    sub(foot, "geom", size="0.01", condim="3", friction="0.6", priority="1")


def visual(body: ET.Element, name: str, material: str, **shape: str) -> ET.Element:
    """A visual geom (class ``visual``: group 2, no contacts, no mass) of the given shape attributes."""
    return sub(body, "geom", name=name, class_="visual", **shape, material=material)


def add_visuals(body: ET.Element, spec: dict, children: list[dict]) -> None:
    """Simple visual shapes so a render reads as a robot (group 2, no contacts, no mass)."""
    name = spec["name"]
    link = side_free(name)
    side = -1.0 if name.startswith("right_") else 1.0
    if link in LINK_RADIUS:
        material = "g1_dark" if link in DARK_LINKS else "g1_light"
        for child in children:
            end = np.zeros(3) if child["pos"] is None else np.asarray(child["pos"], float)
            if np.linalg.norm(end) > 0.015:
                fromto, radius = fmt([0, 0, 0, *end]), fmt(LINK_RADIUS[link])
                visual(body, f"{name}_to_{child['name']}_visual", material, fromto=fromto, size=radius)
    if name == "pelvis":
        visual(body, "pelvis_visual", "g1_dark", type="box", pos="0 0 -0.075", size="0.06 0.09 0.05")
    elif link == "ankle_pitch_link":
        visual(body, f"{name}_visual", "g1_dark", type="sphere", size="0.028")
    elif link == "ankle_roll_link":
        visual(body, f"{name}_visual", "g1_dark", type="box", pos="0.04 0 -0.02", size="0.1 0.036 0.015")
    elif name == "waist_roll_link":
        visual(body, "waist_roll_visual", "g1_dark", type="sphere", size="0.04")
    elif name == "torso_link":
        visual(body, "torso_visual", "g1_light", type="box", pos="0 0 0.145", size="0.075 0.1 0.125")
        visual(body, "neck_visual", "g1_dark", fromto="0 0 0.26 0 0 0.38", size="0.03")
        visual(body, "head_visual", "g1_light", type="sphere", pos="0 0 0.43", size="0.06")
        visual(body, "face_visual", "g1_dark", type="box", pos="0.05 0 0.435", size="0.018 0.042 0.022")
    elif link == "wrist_yaw_link":
        visual(body, f"{name}_visual", "g1_dark", fromto=fmt([0, 0, 0, 0.15, -0.02 * side, 0]), size="0.03")


def add_body(parent: ET.Element, spec: dict, facts: dict, joints_by_body: dict[str, dict]) -> None:
    attrs = {"name": spec["name"]}
    if spec["pos"] is not None:
        attrs["pos"] = fmt(spec["pos"])
    if list(spec["quat"]) != [1, 0, 0, 0]:
        attrs["quat"] = fmt(spec["quat"])
    if spec["parent"] == "world":
        attrs["childclass"] = "g1"
    body = sub(parent, "body", **attrs)
    inertial = spec["inertial"]
    sub(
        body,
        "inertial",
        pos=fmt(inertial["pos"]),
        quat=fmt(inertial["quat"]),
        mass=fmt(inertial["mass"]),
        diaginertia=fmt(inertial["diaginertia"]),
    )
    if "freejoint" in spec:
        sub(body, "freejoint", name=spec["freejoint"])
    joint = joints_by_body.get(spec["name"])
    if joint is not None:
        sub(
            body,
            "joint",
            name=joint["name"],
            axis=fmt(joint["axis"]),
            range=fmt(joint["range"]),
            armature=fmt(joint["armature"]),
        )
    children = [b for b in facts["bodies"] if b["parent"] == spec["name"]]
    add_visuals(body, spec, children)
    for geom in spec["collision_geoms"]:
        shape = {"fromto": fmt(geom["fromto"])} if "fromto" in geom else {"pos": fmt(geom["pos"])}
        sub(body, "geom", name=geom["name"], class_=geom["class"], type=geom["type"], size=fmt(geom["size"]), **shape)
    for site in spec["sites"]:
        sub(body, "site", name=site["name"], pos=fmt(site["pos"]))
    for child in children:
        add_body(body, child, facts, joints_by_body)


def build_robot(facts: dict) -> ET.Element:
    joints = facts["joints"]
    root = ET.Element("mujoco", model="g1_29dof")
    root.append(
        ET.Comment(
            " Unitree G1 29-DoF (rev 1.0). Generated by tools/build_g1_mjcf.py from numbers of Unitree's G1 "
            "description (BSD-3-Clause, Unitree Robotics; see NOTICE). Do not edit by hand. "
        )
    )
    sub(root, "compiler", angle="radian", autolimits="true")
    sub(root, "option", timestep=fmt(TIMESTEP), integrator="implicitfast")

    custom = sub(root, "custom")
    for joint in joints:
        sub(custom, "numeric", name=f"velocity_limit_{joint['name']}", data=fmt(joint["velocity_limit"]))

    add_defaults(root)
    asset = sub(root, "asset")
    for name, rgba in MATERIALS.items():
        sub(asset, "material", name=name, rgba=rgba, specular="0.3", shininess="0.4")

    worldbody = sub(root, "worldbody")
    joints_by_body = {j["body"]: j for j in joints}
    (base,) = [b for b in facts["bodies"] if b["parent"] == "world"]
    add_body(worldbody, base, facts, joints_by_body)

    contact = sub(root, "contact")
    for body1, body2 in facts["contact_excludes"]:
        sub(contact, "exclude", body1=body1, body2=body2)

    actuator = sub(root, "actuator")
    for joint in joints:
        sub(
            actuator,
            "position",
            name=joint["name"],
            joint=joint["name"],
            kp=fmt(joint["kp"]),
            kv=fmt(joint["kd"]),
            ctrlrange=fmt(joint["range"]),
            forcerange=fmt([-joint["effort_limit"], joint["effort_limit"]]),
        )

    sensor = sub(root, "sensor")
    for name, (tag, attrs) in SENSORS.items():
        sub(sensor, tag, name=name, **attrs)

    home = home_joint_pos(facts)
    angles = [home[j["name"]] for j in joints]
    keyframe = sub(root, "keyframe")
    sub(
        keyframe,
        "key",
        name="home",
        qpos=fmt([*facts["home_keyframe"]["root_pos"], 1, 0, 0, 0, *angles]),
        ctrl=fmt(angles),
    )
    return root


def build_scene() -> ET.Element:
    root = ET.Element("mujoco", model="g1_29dof scene")
    root.append(ET.Comment(" Generated by tools/build_g1_mjcf.py. Do not edit by hand. "))
    sub(root, "include", file="g1.xml")
    sub(root, "statistic", center="0 0 0.7", extent="1.8")
    visual = sub(root, "visual")
    sub(visual, "headlight", diffuse="0.6 0.6 0.6", ambient="0.35 0.35 0.35", specular="0 0 0")
    sub(visual, "rgba", haze="0.15 0.25 0.35 1")
    sub(visual, "global", azimuth="150", elevation="-15", offwidth="1920", offheight="1080")
    sub(visual, "quality", offsamples="0", shadowsize="2048")
    asset = sub(root, "asset")
    sky = {"builtin": "gradient", "rgb1": "0.35 0.5 0.65", "rgb2": "0 0 0", "width": "64", "height": "384"}
    sub(asset, "texture", type="skybox", **sky)
    checker = {"builtin": "checker", "mark": "edge", "rgb1": "0.22 0.3 0.38", "rgb2": "0.13 0.2 0.28",
               "markrgb": "0.8 0.8 0.8", "width": "300", "height": "300"}
    sub(asset, "texture", type="2d", name="groundplane", **checker)
    # reflectance 0: a mirror floor halves llvmpipe fps
    floor = {"texture": "groundplane", "texuniform": "true", "texrepeat": "4 4", "reflectance": "0"}
    sub(asset, "material", name="groundplane", **floor)
    worldbody = sub(root, "worldbody")
    sub(worldbody, "light", name="sun", pos="0 0 4", dir="0 0 -1", directional="true", diffuse="0.5 0.5 0.5")
    sub(worldbody, "geom", name="floor", type="plane", size="0 0 0.05", material="groundplane")
    # The world body's subtree centre of mass is the robot's, so trackcom follows the robot.
    cameras = {  # name: (mode, position, target)
        "track": ("trackcom", [1.8, -1.6, 1.2], [0.0, 0.0, 0.6]),
        "front": ("fixed", [2.6, 0.0, 1.1], [0.0, 0.0, 0.65]),
    }
    for name, (mode, pos, target) in cameras.items():
        xyaxes = look_at_xyaxes(np.array(pos), np.array(target))
        sub(worldbody, "camera", name=name, mode=mode, pos=fmt(np.array(pos)), xyaxes=xyaxes)
    return root


def to_text(root: ET.Element) -> str:
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="unicode") + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facts", type=Path, default=DEFAULT_FACTS, help="unitree_g1_29dof.json")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    args = parser.parse_args(argv)
    facts = json.loads(args.facts.read_text())
    write_text(args.out / "g1.xml", to_text(build_robot(facts)))
    write_text(args.out / "scene.xml", to_text(build_scene()))
    print(f"wrote {args.out / 'g1.xml'} and {args.out / 'scene.xml'}")


if __name__ == "__main__":
    main()
