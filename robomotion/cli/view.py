"""``robomotion view``: an interactive 3-D viewer of motion files in the browser (viser).

Examples::

    robomotion view walk.npz walk_g1.csv                      # human and G1 together
    robomotion view motion.npz --constraints constraints.json  # Kimodo constraint markers
    robomotion view walk_g1.npz --report out/walk/             # with the validation verdict
"""

from __future__ import annotations

import argparse
from pathlib import Path


#: What ``--help`` says the command does.
HELP = "interactive 3-D viewer in the browser (play, scrub, constraints, verdict)"
DESCRIPTION = (
    "Serve a web viewer of one or more motion files on one timeline: play/pause, scrub, speed, "
    "foot contacts, Kimodo constraint markers and a validation verdict. Binds to 127.0.0.1 "
    "unless --host says otherwise. Stop with Ctrl-C."
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("view", help=HELP, description=DESCRIPTION)
    parser.add_argument("files", type=Path, nargs="+", metavar="FILE", help="motion files (human or robot)")
    parser.add_argument("--constraints", type=Path, metavar="JSON", help="Kimodo constraints JSON to draw")
    parser.add_argument(
        "--report", type=Path, metavar="DIR|JSON", help="validation report JSON (or its folder) to show the verdict"
    )
    parser.add_argument("--port", type=int, default=8080, help="TCP port (default 8080; 0 = any free port)")
    parser.add_argument(
        "--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1; 0.0.0.0 shares on your network)"
    )
    parser.add_argument("--paused", action="store_true", help="start paused at time 0")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from robomotion.formats import load_motion
    from robomotion.visual.viewer import MotionViewer, load_verdict

    motions = [load_motion(path) for path in args.files]
    constraints = None
    if args.constraints:
        from robomotion.visual.constraint_markers import load_constraint_markers

        constraints = load_constraint_markers(args.constraints)
    verdict = load_verdict(args.report) if args.report else None
    viewer = MotionViewer(
        motions,
        names=[path.name for path in args.files],
        constraints=constraints,
        verdict=verdict,
        host=args.host,
        port=args.port,
        autoplay=not args.paused,
    )
    print(f"robomotion view: open {viewer.url} in a browser (Ctrl-C to stop)", flush=True)
    try:
        viewer.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0
