"""The tracking env refuses NaN actions with a clear error and clips infinite or huge ones."""

from __future__ import annotations

import numpy as np
import pytest

from robomotion.envs.tracking.config import TrackingConfig
from robomotion.envs.tracking.env import G1TrackingEnv
from robomotion.robots import get_robot


@pytest.fixture(scope="module")
def env():
    environment = G1TrackingEnv(motion=get_robot("g1").home_motion(seconds=1.0), config=TrackingConfig.evaluation())
    yield environment
    environment.close()


def test_nan_action_is_refused_naming_the_joints(env) -> None:
    env.reset(seed=0)
    action = np.zeros(env.action_space.shape, dtype=np.float32)
    action[[3, 17]] = np.nan
    with pytest.raises(ValueError, match=r"NaN at indices \[3, 17\]"):
        env.step(action)
    observation, reward, *_ = env.step(np.zeros_like(action))  # the episode goes on after the refusal
    assert np.all(np.isfinite(observation)) and np.isfinite(reward)


@pytest.mark.parametrize("value", [np.inf, -np.inf, 1e30])
def test_infinite_and_huge_actions_are_clipped(env, value) -> None:
    env.reset(seed=0)
    observation, reward, *_ = env.step(np.full(env.action_space.shape, value, dtype=np.float32))
    assert np.all(np.isfinite(observation)) and np.isfinite(reward)
