"""End-to-end quality of the whole pipeline (slow: run with ``pytest -m slow``).

These guard the numbers the README and docs quote: captured walks retargeted to the G1 validate
without a failing check, and the README's demo (seed 0) is not a ``fail``. They take ~12 s, the
verdicts sit on thresholds with durations, and the demo depends on the exact numbers torch produces
on a given CPU, so they are not in the default run.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow

#: Captured walks from the mocap pack (docs/validation.md quotes their verdicts).
CAPTURED_WALKS = [
    "cmu_8action_test_walking_1",
    "cmu_8action_test_walking_extra_10",
    "cmu_8action_test_walking_extra_11",
    "cmu_8action_test_walking_extra_12",
    "deepmimic_walk",
]


@pytest.mark.parametrize("name", CAPTURED_WALKS)
def test_captured_walks_retarget_to_motions_the_g1_can_track(shared_dir, name):
    from robomotion.envs import validate
    from robomotion.retarget import retarget

    from robomotion.formats import load_motion

    report = validate(retarget(load_motion(shared_dir / "data" / "mocap" / f"{name}.npz"), robot="g1"))
    failing = sorted({f.check for f in report.findings if f.severity == "fail"})
    assert report.verdict in ("pass", "warn"), f"{name}: {failing}"


def test_readme_demo_walk_is_not_a_fail():
    from robomotion.envs import validate
    from robomotion.retarget import retarget

    import robomotion

    (human,) = robomotion.load_model()("a person walks forward", duration=5.0, seed=0, progress=False)
    report = validate(retarget(human, robot="g1"))
    assert report.verdict != "fail", report.summary()
