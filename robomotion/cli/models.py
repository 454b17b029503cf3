"""``robomotion models``: the text-to-motion models, and what a model covers.

Examples::

    robomotion models                        # every model name
    robomotion models robomotion-small       # its training actions, seconds of data each
"""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "models",
        help="list text-to-motion models; with a name, the actions the model was trained on",
        description=__doc__.split("\n\n")[0],
    )
    parser.add_argument("name", nargs="?", help="a model name: print the actions it covers")
    parser.set_defaults(func=run)


def print_actions(model) -> None:
    """The model's training actions with their seconds of data (or why they are unknown)."""
    vocabulary = getattr(model, "vocabulary", None)
    if vocabulary is None:
        print(f"{model.name}: no vocabulary file; the actions it covers are not known to robomotion")
        return
    rows = vocabulary.covered_actions()
    total = sum(seconds for _, seconds, _ in rows)
    print(f"{model.name} was trained on {len(rows)} actions, {total / 60:.1f} min of motion "
          f"(prompts far from all of them get a warning: similarity < {vocabulary.warn_below:.2f}):")
    print(f"{'seconds':>8} {'clips':>5}  action  (clips 0: captions derived from motion segments)")
    for action, seconds, clips in rows:
        print(f"{seconds:8.1f} {clips:5d}  {action}")


def run(args: argparse.Namespace) -> int:
    from robomotion.generators import list_models, load_model

    if not args.name:
        for name in list_models():
            print(name)
        return 0
    print_actions(load_model(args.name))
    return 0
