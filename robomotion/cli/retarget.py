"""``robomotion retarget``: human motion files to robot joint trajectories (whole-clip IK).

Examples::

    robomotion retarget walk.npz -o walk_g1.csv                       # one file, G1 qpos CSV
    robomotion retarget walk.bvh -o walk_bm.npz --format beyondmimic-npz
    robomotion retarget clips/ -o g1_clips/ --jobs 2                  # a folder, 2 processes

``--config FILE`` holds :class:`~robomotion.retarget.config.RetargetConfig` fields (``--contacts`` wins
over the file). Every output gets its quality report next to it (``<output>.quality.json``); one file prints it.
A folder is searched recursively for human motion files (NPZ, BVH), the tree is mirrored under
the output folder, a failed clip is reported and skipped, a summary is printed and written to
``<output>/retarget_summary.json``, and the exit code is 1 when any clip failed.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from robomotion.config import add_config_argument, config_from_args

FORMATS = ("g1-csv", "beyondmimic-npz", "kimodo-npz")


#: What ``--help`` says the command does.
DESCRIPTION = (
    "Retarget human motions (Kimodo SOMA/SMPL-X NPZ, AMASS NPZ, BVH, mocap-pack NPZ) to a robot by "
    "whole-clip inverse kinematics with foot locks, joint and speed limits, floor and self-collision "
    "avoidance. IN may be a file or a folder (searched recursively)."
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("retarget", help="retarget human motion files to a robot", description=DESCRIPTION)
    parser.add_argument("input", type=Path, metavar="IN", help="human motion file or folder")
    parser.add_argument("-o", "--output", type=Path, required=True, help="output file, or folder for a folder IN")
    parser.add_argument("--robot", default="g1", help="robot (default g1)")
    parser.add_argument(
        "--format",
        choices=FORMATS,
        help="output format (default: from the output suffix; g1-csv for folders)",
    )
    parser.add_argument("--jobs", type=int, default=1, help="worker processes for a folder (default 1)")
    parser.add_argument(
        "--contacts",
        choices=("auto", "source", "detect"),
        default=None,
        help="foot contacts: the motion's own labels plus detected ones when present (auto, the default), the "
        "labels only (source) or detected only",
    )
    add_config_argument(parser, "RetargetConfig")
    parser.add_argument(
        "--align-floor", action="store_true", help="move each result vertically so its feet meet z = 0"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def _format_for(path: Path, given: str | None) -> str:
    from robomotion.errors import FormatError

    if given:
        return given
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "g1-csv"
    if suffix == ".npz":
        return "kimodo-npz" if "kimodo" in path.stem.lower() else "beyondmimic-npz"
    if suffix == "":
        return "g1-csv"
    raise FormatError(f"cannot write a robot motion as '{suffix}'; use .csv or .npz or --format", path, "output")


def run(args: argparse.Namespace) -> int:
    from robomotion.atomic import write_text
    from robomotion.errors import FormatError
    from robomotion.retarget.batch import (
        SUFFIXES,
        human_motion_files,
        output_path_for,
        retarget_file,
        retarget_files,
        summary_json,
    )
    from robomotion.retarget.config import RetargetConfig

    if args.jobs < 1:
        raise FormatError(f"--jobs must be at least 1, got {args.jobs}", field="jobs")
    options = config_from_args(args, RetargetConfig, contacts=args.contacts).to_dict()
    options["align_floor"] = args.align_floor
    if args.input.is_file():
        format_name = _format_for(args.output, args.format)
        output = args.output
        if output.is_dir() or output.suffix == "":
            output = output / (args.input.stem + SUFFIXES[format_name])
        item = retarget_file(args.input, output, args.robot, format_name, options)
        if not item.ok:
            error = re.sub(r"^(FormatError|RobomotionError|UnknownNameError|BackendUnavailableError): ", "", item.error)
            named = error if str(item.source) in error else f"{item.source}: {error}"
            print(f"robomotion retarget: error: {named}", file=sys.stderr)
            return 2
        print(f"wrote {item.output} ({item.frames} frames, {item.seconds:.2f} s)")
        from robomotion.retarget.quality import RetargetQuality

        for line in RetargetQuality(**item.quality).lines():
            print(f"  {line}")
        return 0
    if not args.input.is_dir():
        raise FormatError("no such file or folder", args.input)
    if args.output.suffix and not args.output.is_dir():
        raise FormatError("a folder IN needs an output folder, not a file", args.output, "output")
    format_name = args.format or "g1-csv"
    sources = human_motion_files(args.input)
    if not sources:
        raise FormatError("no human motion files (.npz, .bvh) found", args.input)
    jobs = [(source, output_path_for(source, args.input, args.output, format_name)) for source in sources]
    summary = retarget_files(jobs, args.robot, format_name, args.jobs, options, progress=not args.no_progress)
    write_text(args.output / "retarget_summary.json", summary_json(summary) + "\n")
    for line in summary.lines():
        print(line)
    return 1 if summary.failed else 0
