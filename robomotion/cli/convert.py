"""``robomotion convert``: one motion file format to another.

Examples::

    robomotion convert walk.npz walk.bvh                       # Kimodo NPZ -> SOMA BVH (SEED rest)
    robomotion convert walk.npz walk.bvh --bvh-standard-tpose  # ... standard T-pose rest
    robomotion convert g1_walk.npz g1_walk.csv                 # Kimodo G1 NPZ -> MuJoCo qpos CSV
    robomotion convert lafan.csv walk_bm.npz --quat-order xyzw # LAFAN1 CSV -> BeyondMimic NPZ (50 fps)
    robomotion convert clip.npz clip_amass.npz --from mocap-npz --to amass-npz

Formats come from the suffixes and the file contents (``--from``/``--to`` override). Human
motions and robot motions do not convert into each other here: that is retargeting
(``robomotion retarget``). Bad input exits with code 2 and leaves no output file.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(subparsers: argparse._SubParsersAction) -> None:
    from robomotion.formats import FORMATS

    names = list(FORMATS)
    parser = subparsers.add_parser(
        "convert",
        help="convert a motion file to another format",
        description=(
            "Convert a motion file to another format. Formats come from the suffixes and the file contents "
            "(--from/--to override). Human and robot motions do not convert into each other here: that is "
            "retargeting (robomotion retarget). Bad input exits with code 2 and leaves no output file."
        ),
        epilog="formats: " + "; ".join(f"{f.name} ({f.description})" for f in FORMATS.values()),
    )
    parser.add_argument("input", type=Path, help="motion file to read")
    parser.add_argument("output", type=Path, help="file to write (written atomically)")
    parser.add_argument("--from", dest="from_format", choices=names, help="input format (default: detected)")
    parser.add_argument("--to", dest="to_format", choices=names, help="output format (default: from the suffix)")
    parser.add_argument(
        "--fps", type=float, help="output frame rate (resampled; BeyondMimic default 50, Kimodo NPZ always 30)"
    )
    parser.add_argument(
        "--source-fps", type=float, help="frame rate of an input that does not store one (G1 CSV 30, SEED CSV 120)"
    )
    parser.add_argument(
        "--quat-order",
        choices=("wxyz", "xyzw"),
        default="wxyz",
        help="root quaternion order of the G1 CSV (Kimodo/MuJoCo wxyz, Unitree LAFAN1/GMR xyzw); "
        "with CSVs on both sides it is the output's",
    )
    parser.add_argument(
        "--source-quat-order",
        choices=("wxyz", "xyzw"),
        help="quaternion order of a G1 CSV input when it differs from --quat-order (default: wxyz for "
        "CSV-to-CSV conversions, else --quat-order)",
    )
    parser.add_argument(
        "--bvh-standard-tpose",
        action="store_true",
        help="SOMA BVH in the standard T-pose rest (default: BONES-SEED rest; reading detects it)",
    )
    parser.add_argument("--robot", default="g1", help="robot of robot formats (default g1)")
    parser.add_argument(
        "--align-floor",
        action="store_true",
        help="robot motions: move the root vertically so the feet meet z = 0 (the clip's contact level, "
        "see robomotion.floor)",
    )
    parser.set_defaults(func=run)


def read_options(format_name: str, args: argparse.Namespace, quat_order: str) -> dict[str, Any]:
    """Reader keyword arguments of a format from the CLI flags (``quat_order`` of a G1 CSV input)."""
    options: dict[str, Any] = {}
    if format_name in ("g1-csv", "seed-csv", "kimodo-npz", "amass-npz") and args.source_fps is not None:
        options["fps"] = args.source_fps
    if format_name == "g1-csv":
        options["quat_order"] = quat_order
    if format_name in ("g1-csv", "seed-csv", "kimodo-npz", "beyondmimic-npz"):
        options["robot"] = args.robot
    if format_name == "bvh" and args.bvh_standard_tpose:
        options["standard_tpose"] = True
    return options


def write_options(format_name: str, args: argparse.Namespace) -> dict[str, Any]:
    """Writer keyword arguments of a format from the CLI flags."""
    options: dict[str, Any] = {}
    if format_name in ("g1-csv", "beyondmimic-npz") and args.fps is not None:
        options["fps"] = args.fps
    if format_name == "g1-csv":
        options["quat_order"] = args.quat_order
    if format_name == "bvh":
        options["standard_tpose"] = args.bvh_standard_tpose
    return options


def align_floor_of(motion, source: Path):
    """``motion`` (a robot motion) moved so its feet meet z = 0; prints the shift. Shared by the
    ``--align-floor`` options of convert, retarget and generate."""
    from robomotion.errors import FormatError
    from robomotion.floor import align_floor, estimate_floor
    from robomotion.motion import RobotMotion

    if not isinstance(motion, RobotMotion):
        raise FormatError("--align-floor needs a robot motion (retarget a human motion first)", source, "align_floor")
    offset = estimate_floor(motion).offset
    print(f"floor: the clip stood {offset * 100:+.1f} cm from z = 0; moved the root by {-offset * 100:+.1f} cm")
    return align_floor(motion, offset)


def run(args: argparse.Namespace) -> int:
    from robomotion.errors import FormatError
    from robomotion.formats import detect_format, get_format, output_format
    from robomotion.motion import RobotMotion

    source = args.from_format or detect_format(args.input)
    csv_out = args.to_format == "g1-csv" or (args.to_format is None and args.output.suffix.lower() == ".csv")
    source_quat_order = args.source_quat_order or ("wxyz" if csv_out else args.quat_order)
    motion = get_format(source).read(args.input, **read_options(source, args, source_quat_order))
    target_name = args.to_format or output_format(motion, args.output)
    target = get_format(target_name)
    if not target.accepts(motion):
        if isinstance(motion, RobotMotion):
            raise FormatError(
                f"{args.input} holds a robot motion ({motion.robot}) and {target.name} stores human skeleton "
                f"motions; robot files convert to g1-csv, beyondmimic-npz or kimodo-npz",
                args.output,
                field="format",
            )
        raise FormatError(
            f"{args.input} holds a human motion (skeleton {motion.skeleton.name}) and {target.name} stores robot "
            f"motions; retarget it to the robot first: robomotion retarget {args.input} OUTPUT",
            args.output,
            field="format",
        )
    if args.align_floor:
        motion = align_floor_of(motion, args.input)
    options = write_options(target.name, args)
    if args.fps is not None and "fps" not in options:
        motion = motion.resample(args.fps)
    written = target.write(motion, args.output, **options)
    print(f"{args.input} ({source}) -> {written} ({target.name})")
    return 0
