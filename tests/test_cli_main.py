"""The ``robomotion`` entry point: sub-commands and the headless GL choice."""

from __future__ import annotations

import sys

import pytest

from robomotion.cli.main import SUBCOMMANDS, build_parser, use_egl_when_headless


def test_help_lists_every_subcommand() -> None:
    help_text = build_parser().format_help()
    for name in SUBCOMMANDS:
        assert name in help_text


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="EGL is chosen on Linux only")
@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "egl"),  # headless: EGL
        ({"DISPLAY": ":0"}, None),  # a display: leave MuJoCo's default (GLFW)
        ({"WAYLAND_DISPLAY": "wayland-0"}, None),
        ({"MUJOCO_GL": "osmesa"}, "osmesa"),  # the user's choice wins
    ],
)
def test_headless_machines_get_egl_unless_the_user_chose(environ: dict[str, str], expected: str | None) -> None:
    use_egl_when_headless(environ)
    assert environ.get("MUJOCO_GL") == expected
