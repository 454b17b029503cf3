"""``robomotion render``: a motion file to a video (.mp4/.gif) or a contact-sheet PNG.

Examples::

    robomotion render walk_g1.csv                          # walk_g1.mp4 next to the input
    robomotion render walk.npz --side-by-side walk_g1.npz -o both.mp4
    robomotion render walk_g1.npz -o sheet.png --sheet 8   # 8 frames in a grid
"""

from __future__ import annotations

import argparse
from pathlib import Path

from robomotion.errors import FormatError

DEFAULT_SHEET_FRAMES = 8


#: What ``--help`` says the command does.
DESCRIPTION = (
    "Render a human or robot motion file with MuJoCo offscreen rendering (EGL on a machine "
    "without a display unless MUJOCO_GL says otherwise). Robots are drawn from their MuJoCo model, humans as "
    "capsule skeletons on the same floor; green discs mark feet in contact."
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "render", help="render a motion to a video or contact sheet (MuJoCo offscreen)", description=DESCRIPTION
    )
    parser.add_argument("file", type=Path, help="motion file (any format robomotion.formats reads)")
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        help="output .mp4, .gif or .png (a contact sheet); default: next to FILE, its name with .mp4 "
        "(or .png with --sheet)",
    )
    parser.add_argument("--side-by-side", type=Path, metavar="OTHER", help="second motion drawn next to FILE")
    parser.add_argument(
        "--camera",
        default="track",
        help="'track' follows the root, 'fixed' frames the whole path, or a robot camera name (default: track)",
    )
    parser.add_argument("--fps", type=float, help="video frame rate (default: the motion's own)")
    parser.add_argument("--width", type=int, default=None, help="width of one view in pixels (480; sheet 320)")
    parser.add_argument("--height", type=int, default=None, help="height of one view in pixels (360; sheet 240)")
    parser.add_argument("--sheet", type=int, metavar="N", help="write a contact sheet of N frames (a PNG)")
    parser.add_argument("--columns", type=int, default=4, help="contact-sheet columns (default 4)")
    parser.add_argument(
        "--pretty", action="store_true", help="MuJoCo's default look: antialiasing and shadows (about 6x slower)"
    )
    parser.add_argument("--no-contacts", action="store_true", help="do not draw foot-contact discs")
    parser.add_argument("--no-labels", action="store_true", help="do not write names and times on the frames")
    parser.set_defaults(func=run)


def _output_path(args: argparse.Namespace) -> Path:
    if args.output is not None:
        return args.output
    return args.file.with_suffix(".png" if args.sheet else ".mp4")


def run(args: argparse.Namespace) -> int:
    from robomotion.formats import load_motion
    from robomotion.visual.render import render_contact_sheet, render_video

    output = _output_path(args)
    motion = load_motion(args.file)
    other = load_motion(args.side_by_side) if args.side_by_side is not None else None
    common = dict(
        side_by_side=other,
        camera=args.camera,
        fast=not args.pretty,
        contacts=not args.no_contacts,
        labels=not args.no_labels,
    )
    if output.suffix.lower() == ".png":
        num_frames = args.sheet or DEFAULT_SHEET_FRAMES
        render_contact_sheet(
            motion,
            output,
            num_frames=num_frames,
            columns=args.columns,
            width=args.width or 320,
            height=args.height or 240,
            **common,
        )
    else:
        if args.sheet:
            raise FormatError(f"--sheet writes a PNG; got output '{output}'", path=output)
        render_video(
            motion, output, fps=args.fps, width=args.width or 480, height=args.height or 360, progress=None, **common
        )
    print(output)
    return 0
