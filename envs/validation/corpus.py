"""The labelled corpus the validation verdict is calibrated on: clips whose answer is known.

* **Known-trackable** (label ``"trackable"``): real robot references that tracking policies handle.
  - the g1-moves clips (G1 dance/karate, 60 fps CSV, quaternion x, y, z, w), each of which its
    authors trained an mjlab tracking policy on;
  - Kimodo's own G1 demo outputs;
  - real motion capture (CMU, DeepMimic: walks, runs, jumps, kicks, dances) retargeted to the G1 by
    :func:`robomotion.retarget.retarget` (passed in by the caller; cached as G1 CSVs under ``cache_dir``).
* **Known-impossible** (label ``"impossible"``): a crop of each trackable clip with one defect from
  :mod:`robomotion.envs.validation.corruptions`.

The data comes from the project's ``shared`` folder (never from the installed package); every
loader takes its path. Clips are split into a train and a held-out part by a hash of the *base*
clip's name (a corrupted clip goes where its base goes), fixed before any threshold was tuned:
thresholds are tuned on ``train`` only and ``held_out`` is reported separately.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from robomotion.envs.validation.corruptions import CORRUPTIONS, NotApplicable, corrupt

from robomotion.errors import FormatError
from robomotion.motion import RobotMotion

__all__ = [
    "G1_MOVES_FPS",
    "MOCAP_CLIPS",
    "LabelledClip",
    "g1_moves_clips",
    "impossible_clips",
    "kimodo_g1_clips",
    "retargeted_mocap_clips",
    "split_of",
    "trackable_clips",
]

Label = Literal["trackable", "impossible"]
Split = Literal["train", "held_out"]

#: Frame rate of the g1-moves CSVs (not stored in the files).
G1_MOVES_FPS = 60.0
#: Share of base clips in the held-out split.
HELD_OUT_FRACTION = 0.3
#: Longest crop of a base clip that a corruption is applied to, seconds.
CROP_S = 6.0
#: Shortest base clip that gets corrupted, seconds: "seconds of floating" need seconds.
MIN_BASE_S = 2.5

#: Real mocap clips retargeted as known-trackable references, with their kind of motion.
#: Not included: flips, cartwheels, crawling, rolls and get-ups (hands, knees and back on the floor,
#: beyond what the retargeter's foot-contact model covers), and ``cmu_8action_train_directing_traffic_1``,
#: whose source floor is broken (its mocap README: the contact level sits 6-9 cm above z = 0 for most
#: of the clip); retargeted, the G1 hovers 3-35 cm above the floor for 3.4 s, which *is* impossible.
MOCAP_CLIPS: dict[str, str] = {
    **{name: "walk" for name in (
        "cmu_8action_test_walking_1", "cmu_8action_train_walking_4", "cmu_8action_test_walking_extra_10",
        "cmu_8action_test_walking_extra_11", "cmu_8action_test_walking_extra_12", "deepmimic_walk",
        "cmu_iclone_005_01", "cmu_iclone_006_01", "deepmimic_zombie_walk",
    )},
    **{name: "run" for name in (
        "cmu_8action_test_running_1", *(f"cmu_8action_train_running_{i}" for i in range(1, 6)), "deepmimic_run",
        "deepmimic_jog",
    )},
    **{name: "jump" for name in (
        "cmu_8action_test_jumping_1", *(f"cmu_8action_train_jumping_{i}" for i in range(1, 6)), "deepmimic_jump",
        "cmu_iclone_002_04",
    )},
    **{name: "kick" for name in (
        "cmu_8action_test_soccer_1", *(f"cmu_8action_train_soccer_{i}" for i in range(1, 6)), "deepmimic_kick",
        "deepmimic_spinkick",
    )},
    **{name: "dance" for name in (
        "deepmimic_dance_a", "deepmimic_dance_b", "cmu_iclone_005_09", "cmu_iclone_005_11",
    )},
    **{name: "gesture" for name in (
        "deepmimic_punch", "cmu_8action_test_washwindow_1", "cmu_8action_train_basketball_signal_1",
    )},
}


def split_of(base: str, held_out_fraction: float = HELD_OUT_FRACTION) -> Split:
    """``"held_out"`` for a fixed ``held_out_fraction`` of base-clip names (by SHA-256), else ``"train"``."""
    digest = int(hashlib.sha256(base.encode("utf-8")).hexdigest()[:8], 16)
    return "held_out" if digest / 2**32 < held_out_fraction else "train"


@dataclass(frozen=True, eq=False)
class LabelledClip:
    """One clip with a known answer.

    Attributes:
        name: unique name (``<base>`` or ``<base>+<kind>``).
        base: the real clip it comes from.
        source: ``"g1_moves"``, ``"kimodo"`` or ``"mocap"`` (of the base clip).
        category: kind of motion (``"dance"``, ``"run"``, ...).
        label: ``"trackable"`` or ``"impossible"``.
        kind: ``"real"`` or the corruption kind.
        motion: the robot motion.
    """

    name: str
    base: str
    source: str
    category: str
    label: Label
    kind: str
    motion: RobotMotion

    @property
    def split(self) -> Split:
        return split_of(self.base)


def _g1_moves_category(name: str) -> str:
    return "karate" if name.startswith("M_") or "Karate" in name else "dance"


def g1_moves_clips(shared_dir: str | Path) -> Iterator[LabelledClip]:
    """The g1-moves clips (``data/g1_moves/clips/*.csv``: 60 fps, quaternion x, y, z, w)."""
    from robomotion.formats.g1_csv import read_g1_csv

    for path in sorted((Path(shared_dir) / "data" / "g1_moves" / "clips").glob("*.csv")):
        motion = read_g1_csv(path, fps=G1_MOVES_FPS, quat_order="xyzw")
        yield LabelledClip(path.stem, path.stem, "g1_moves", _g1_moves_category(path.stem), "trackable", "real",
                           motion)


def kimodo_g1_clips(shared_dir: str | Path) -> Iterator[LabelledClip]:
    """Kimodo's G1 demo outputs (``data/kimodo_examples/kimodo-g1-rp/*/motion.npz``)."""
    from robomotion.formats import load_motion

    for path in sorted((Path(shared_dir) / "data" / "kimodo_examples" / "kimodo-g1-rp").glob("*/motion.npz")):
        name = f"kimodo_g1_{path.parent.name}"
        motion = load_motion(path)
        if isinstance(motion, RobotMotion):
            yield LabelledClip(name, name, "kimodo", "generated", "trackable", "real", motion)


#: A retargeting function, ``retarget(human_motion, robot="g1") -> RobotMotion``
#: (:func:`robomotion.retarget.retarget`; passed in, since validation does not import retargeting).
Retarget = Callable[..., RobotMotion]


def retargeted_mocap_clips(
    shared_dir: str | Path, cache_dir: str | Path, names: Iterable[str] = MOCAP_CLIPS, retarget: Retarget | None = None
) -> Iterator[LabelledClip]:
    """Mocap clips retargeted to the G1 by ``retarget``, each cached as ``cache_dir/<name>.csv`` (wxyz)
    with its frame rate in ``<name>.fps``.

    Raises:
        FormatError: a clip is not cached and no ``retarget`` function was given.
    """
    from robomotion.atomic import write_text
    from robomotion.formats import load_motion
    from robomotion.formats.g1_csv import read_g1_csv, write_g1_csv

    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    for name in names:
        cached = cache / f"{name}.csv"
        fps_file = cache / f"{name}.fps"
        if cached.is_file() and fps_file.is_file():
            motion = read_g1_csv(cached, fps=float(fps_file.read_text()))
        elif retarget is None:
            raise FormatError("not cached; pass retarget=robomotion.retarget.retarget to build it", cached)
        else:
            motion = retarget(load_motion(Path(shared_dir) / "data" / "mocap" / f"{name}.npz"), robot="g1")
            write_g1_csv(motion, cached)
            write_text(fps_file, repr(float(motion.fps)))
        yield LabelledClip(name, name, "mocap", MOCAP_CLIPS.get(name, "mocap"), "trackable", "real", motion)


def trackable_clips(
    shared_dir: str | Path, cache_dir: str | Path, retarget: Retarget | None = None
) -> list[LabelledClip]:
    """Every known-trackable clip: g1-moves, Kimodo G1 examples, retargeted mocap (see
    :func:`retargeted_mocap_clips` for ``retarget``)."""
    return [
        *g1_moves_clips(shared_dir),
        *kimodo_g1_clips(shared_dir),
        *retargeted_mocap_clips(shared_dir, cache_dir, retarget=retarget),
    ]


def _crop(motion: RobotMotion, seconds: float) -> RobotMotion:
    """The middle ``seconds`` of ``motion`` (all of it when shorter)."""
    frames = int(round(seconds * motion.fps))
    if motion.num_frames <= frames:
        return motion
    start = (motion.num_frames - frames) // 2
    return motion.trim(start, start + frames)


def impossible_clips(
    trackable: Iterable[LabelledClip], kinds: Iterable[str] = CORRUPTIONS, crop_s: float = CROP_S
) -> Iterator[LabelledClip]:
    """Each trackable clip's middle ``crop_s`` seconds with each defect in ``kinds`` (clips shorter
    than :data:`MIN_BASE_S` are skipped: a 2 s defect does not fit them)."""
    kinds = tuple(kinds)
    for clip in trackable:
        if clip.motion.duration < MIN_BASE_S:
            continue
        cropped = _crop(clip.motion, crop_s)
        for kind in kinds:
            # A speed-up shortens the clip: it gets the whole clip and is cropped afterwards.
            try:
                motion = _crop(corrupt(clip.motion, kind), crop_s) if kind == "speedup" else corrupt(cropped, kind)
            except NotApplicable:
                continue
            yield LabelledClip(f"{clip.base}+{kind}", clip.base, clip.source, clip.category, "impossible", kind,
                               motion)
