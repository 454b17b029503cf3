"""``robomotion info``: what a motion file holds (format, skeleton or robot, frames, ranges).

Examples::

    robomotion info walk.npz
    robomotion info g1_walk.csv --source-fps 30 --json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

#: What ``--help`` says the command does.
DESCRIPTION = (
    "Print a motion file's format, skeleton or robot, frame count, frame rate, duration, root travel "
    "and height, and for robots each joint's range against the model's limits."
)


def register(subparsers: argparse._SubParsersAction) -> None:
    from robomotion.formats import FORMATS

    parser = subparsers.add_parser("info", help="summarise a motion file", description=DESCRIPTION)
    parser.add_argument("file", type=Path, help="motion file")
    parser.add_argument("--from", dest="from_format", choices=list(FORMATS), help="format (default: detected)")
    parser.add_argument("--source-fps", type=float, help="frame rate of a file that does not store one (CSV)")
    parser.add_argument("--quat-order", choices=("wxyz", "xyzw"), default="wxyz", help="G1 CSV quaternion order")
    parser.add_argument("--bvh-standard-tpose", action="store_true", help="read a SOMA BVH as standard T-pose")
    parser.add_argument("--robot", default="g1", help="robot of robot formats (default g1)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from robomotion.cli.convert import read_options
    from robomotion.formats import detect_format, get_format
    from robomotion.formats.summary import describe, format_summary

    source = args.from_format or detect_format(args.file)
    motion = get_format(source).read(args.file, **read_options(source, args, args.quat_order))
    summary = describe(motion)
    if args.json:
        print(json.dumps({"file": str(args.file), "format": source, **summary}, indent=2))
    else:
        print(f"file       {args.file}")
        print(format_summary(summary, source))
    return 0
