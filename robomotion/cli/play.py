"""``robomotion play``: run an ONNX tracking policy (mjlab / BeyondMimic export) on CPU MuJoCo.

Examples::

    robomotion play B_Fence1.onnx                              # the embedded motion; B_Fence1_play.mp4
    robomotion play policy.onnx --motion walk.csv --seconds 5 --video walk_play.mp4
    robomotion play policy.onnx --report out/ --no-video       # out/report.json, out/steps.csv

Prints survival time (or the fall and its cause: mjlab's termination rules), tracked-body position
errors, torque and joint-range use. Exit 0 when the robot stayed up, 1 when it fell (a failed check,
like a validation ``fail``), 2 on bad input (missing or unknown ONNX metadata, another robot, a
motion of another robot).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from robomotion.config import add_config_argument


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "play",
        help="run an ONNX tracking policy (mjlab export) on CPU MuJoCo: survival, errors, video",
        description=(
            "Run an mjlab/BeyondMimic-style ONNX tracking policy on this project's G1 model with mjlab's "
            "observation and control contract (read from the ONNX metadata). Tracks the motion embedded in the "
            "ONNX, or --motion. Reports survival, falls, per-body tracking errors, torque and joint-limit use; "
            "writes a video of the reference next to the policy."
        ),
    )
    parser.add_argument("policy", type=Path, help="the .onnx policy")
    parser.add_argument("--motion", type=Path, help="robot motion file to track instead of the embedded reference")
    parser.add_argument("--seconds", type=float, help="stop after S seconds (default: the whole reference)")
    parser.add_argument("--video", type=Path, help="output .mp4 (default: POLICY_play.mp4 in the current folder)")
    parser.add_argument("--no-video", action="store_true", help="do not render a video")
    parser.add_argument("--report", type=Path, metavar="DIR", help="write report.json, steps.csv and the video here")
    add_config_argument(parser, "TrackingConfig (starting from the noise-free evaluation settings)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from robomotion.config import override, read_json_object
    from robomotion.envs.tracking.config import TrackingConfig
    from robomotion.envs.tracking.play import play

    config = None
    if args.config is not None:
        config = override(TrackingConfig.evaluation(), read_json_object(args.config), args.config)

    video = None
    if not args.no_video:
        video = args.video or (args.report / "play.mp4" if args.report else Path(f"{args.policy.stem}_play.mp4"))
    result = play(args.policy, motion=args.motion, seconds=args.seconds, video=video, report=args.report,
                  config=config)
    print(result.summary())
    if result.video:
        print(f"wrote {result.video}")
    if args.report:
        print(f"wrote {args.report / 'report.json'}, {args.report / 'steps.csv'}")
    return 0 if result.survived else 1
