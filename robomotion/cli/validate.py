"""``robomotion validate``: can the robot physically track this motion? A verdict with reasons.

Exit code 0 for ``pass`` or ``warn``, 1 for ``fail``, 2 for bad input.

Examples::

    robomotion validate walk_g1.csv                       # verdict and reasons on the terminal
    robomotion validate walk_g1.npz --report out/walk      # + report.json, report.html, plots, reference.mp4
    robomotion validate walk_g1.npz --report out/walk --no-video --config strict.json
    robomotion validate B_Fence1.csv --source-fps 60 --quat-order xyzw   # a Unitree/LAFAN1-style G1 CSV
"""

from __future__ import annotations

import argparse
from pathlib import Path

from robomotion.config import add_config_argument, config_from_args
from robomotion.errors import FormatError

#: What ``--help`` says the command does.
DESCRIPTION = (
    "Validate a robot motion on the robot's MuJoCo model. FAIL means a tracking policy cannot be expected "
    "to learn it (physically impossible: support no contact can give, speeds or torques far beyond the "
    "motors, teleports, deep or lasting floor penetration, joints far past their range); WARN lists "
    "defects a tracker tolerates, with where and how much. Contact checks are judged relative to the "
    "clip's own floor when it is within 5 cm of z = 0. Exit code 0 for pass/warn, 1 for fail, 2 for "
    "bad input."
)


def register(subparsers: argparse._SubParsersAction) -> None:
    summary = "check in MuJoCo whether the robot can physically track a motion (pass/warn/fail)"
    parser = subparsers.add_parser("validate", help=summary, description=DESCRIPTION)
    parser.add_argument("motion", type=Path, help="robot motion file (any format robomotion.formats reads)")
    parser.add_argument("--report", type=Path, metavar="DIR", help="write report.json, report.html, plots and a video")
    parser.add_argument("--no-video", action="store_true", help="skip the video in the report")
    csv_help = {
        "--source-fps": "frame rate of a CSV input (CSVs store none; default 30)",
        "--quat-order": "root quaternion order of a G1 CSV input (default wxyz as MuJoCo/Kimodo; Unitree LAFAN1, GMR "
        "and G1 Moves clips use xyzw)",
    }
    parser.add_argument("--source-fps", type=float, help=csv_help["--source-fps"])
    parser.add_argument("--quat-order", choices=("wxyz", "xyzw"), default="wxyz", help=csv_help["--quat-order"])
    add_config_argument(parser, "ValidationConfig")
    parser.add_argument("--quiet", action="store_true", help="print only the verdict line")
    parser.add_argument(
        "--rollouts",
        action="store_true",
        help="also run the open-loop PD rollouts (information only: they never decide the verdict)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from robomotion.envs.validation.api import ValidationConfig, validate
    from robomotion.formats import load_motion
    from robomotion.motion import RobotMotion

    if args.report is not None and args.report.exists() and not args.report.is_dir():
        raise FormatError("is a file; --report takes a folder to write the report into", args.report, "--report")
    config = config_from_args(args, ValidationConfig)
    if args.rollouts:
        from dataclasses import replace

        config = replace(config, rollouts=True)
    motion = load_motion(args.motion, **_read_options(args))
    if not isinstance(motion, RobotMotion):
        raise FormatError(
            f"is a {type(motion).__name__}; validation needs a robot motion (retarget it first: robomotion retarget)",
            args.motion,
        )
    report = validate(motion, config, report_dir=args.report, video=not args.no_video)
    summary = report.summary()
    print(summary.splitlines()[0] if args.quiet else summary)
    # report.notes (e.g. a skipped video) reach stderr through the "robomotion" logger (see cli.main).
    if args.report is not None and not args.quiet:
        print(f"report: {report.files['html']}")
    return 1 if report.verdict == "fail" else 0


def _read_options(args: argparse.Namespace) -> dict:
    """Reader options from ``--source-fps`` / ``--quat-order`` for the formats that take them."""
    from robomotion.formats import detect_format

    name = detect_format(args.motion)
    options: dict = {}
    if args.source_fps is not None and name in ("g1-csv", "seed-csv"):
        options["fps"] = args.source_fps
    if name == "g1-csv":
        options["quat_order"] = args.quat_order
    return options
