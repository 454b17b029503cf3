"""Segment captions derived from the motion itself, for training text-to-motion models.

A clip's own labels describe 20 s at once ("a person plays soccer"); the network never learns
what "backward", "slowly", "turns left" or "the right hand" mean from them. This module
describes a *segment* (2-6 s) from its joint positions with the measurements of
:mod:`robomotion.generators.evaluation.measures`: speed and direction of travel, turns and
circles, jumps and hops, kicks and punches with their side, raised or waving hands with their
side, crouching, clapping. Since captions are computed on the motion, every augmentation that
changes the motion changes the caption with it: a mirrored segment says "left" where the
original said "right", a sped-up walk becomes a jog, a segment seen from another heading keeps
its body-relative words.

Wordings are canonical (walk/jog/run, forward/backward/sideways, slowly, turns left, in a circle,
jumps, hops on the left leg, kicks/punches with the right leg/hand, waves/raises the left hand,
raises both arms, crouches, claps) with a few synonyms; the evaluation suite's held-out wordings
are not used here.
"""

from __future__ import annotations

import numpy as np

from robomotion.generators.evaluation.measures import MotionMeasures, measure_motion
from robomotion.motion import HumanMotion

__all__ = ["describe", "segment_captions"]

SUBJECTS = ("a person", "someone", "a man", "a woman")
_OTHER = {"left": "right", "right": "left"}


def _pick(rng: np.random.Generator | None, options: tuple[str, ...]) -> str:
    """A random wording, or the first (canonical) one when ``rng`` is None."""
    return options[0] if rng is None else options[int(rng.integers(len(options)))]


def _locomotion(m: MotionMeasures, rng: np.random.Generator | None) -> str | None:
    speed = float(np.hypot(m.forward_speed, m.left_speed))
    if abs(m.path_turn) >= 270.0 and m.travel_speed >= 0.3:
        side = "left" if m.path_turn > 0 else "right"
        return _pick(rng, (f"walks in a circle to the {side}", "walks in a circle", f"walks around in a circle to the {side}"))
    turn = ""
    if abs(m.net_turn) >= 150.0:
        turn = _pick(rng, ("turns around", f"turns around to the {'left' if m.net_turn > 0 else 'right'}"))
    elif abs(m.net_turn) >= 45.0:
        side = "left" if m.net_turn > 0 else "right"
        turn = _pick(rng, ("turns left" if side == "left" else "turns right", f"turns to the {side}"))
    if speed < 0.25 or m.travel_speed < 0.3:
        return turn or None
    angle = float(np.degrees(np.arctan2(m.left_speed, m.forward_speed)))
    if abs(angle) <= 40.0:
        if speed >= 2.6:
            move = _pick(rng, ("runs forward", "runs", "runs fast"))
        elif speed >= 1.7:
            move = _pick(rng, ("jogs forward", "jogs", "runs slowly"))
        elif speed < 0.8:
            move = _pick(rng, ("walks slowly", "walks forward slowly", "walks slowly forward"))
        else:
            move = _pick(rng, ("walks forward", "walks"))
    elif abs(angle) >= 140.0:
        move = _pick(rng, ("walks backward", "walks backwards", "moves backward"))
        if speed < 0.6:
            move += " slowly"
    elif 50.0 <= abs(angle) <= 130.0:
        side = "left" if angle > 0 else "right"
        move = _pick(rng, (f"walks sideways to the {side}", f"sidesteps to the {side}", f"steps sideways to the {side}"))
    else:
        return turn or None
    return f"{move} and {turn}" if turn else move


def describe(m: MotionMeasures, rng: np.random.Generator | None = None) -> list[str]:
    """Clauses (without subject) that hold for a segment's measurements; canonical wordings without ``rng``."""
    clauses = []
    flight = m.longest_flight >= 0.13 and m.flight_clearance >= 0.10
    hop_side = next((s for s in ("left", "right") if m.foot_up_share[_OTHER[s]] >= 0.5), None)
    if flight and hop_side:
        clauses.append(_pick(rng, (f"hops on the {hop_side} leg", f"hops on the {hop_side} foot")))
    elif flight:
        clauses.append("jumps forward" if m.forward_speed >= 0.3 else _pick(rng, ("jumps", "jumps in place", "jumps up")))
    else:
        move = _locomotion(m, rng)
        if move:
            clauses.append(move)
    for side in ("left", "right"):
        if m.ankle_lift[side] >= 0.35 and m.ankle_lift[side] > m.ankle_lift[_OTHER[side]] + 0.1 and not flight:
            clauses.append(_pick(rng, (f"kicks with the {side} leg", f"kicks with the {side} foot")))
    for side in ("left", "right"):
        if m.hand_reach[side] >= 0.45 and m.hand_reach[side] > m.hand_reach[_OTHER[side]] + 0.1:
            clauses.append(_pick(rng, (f"punches with the {side} hand", f"punches with the {side} fist")))
    head = m.hand_above_head
    if min(head.values()) >= 0.2:
        clauses.append(_pick(rng, ("raises both arms", "raises both hands above the head")))
    else:
        for side in ("left", "right"):
            raised, other = m.hand_above_shoulder[side], m.hand_above_shoulder[_OTHER[side]]
            if raised >= 0.25 and other <= 0.5 * raised and m.hand_wave_speed[side] >= 0.3:
                clauses.append(_pick(rng, (f"waves the {side} hand", f"waves with the {side} hand")))
            elif head[side] >= 0.2 and head[_OTHER[side]] <= 0.5 * head[side]:
                clauses.append(_pick(rng, (f"raises the {side} hand", f"raises the {side} arm above the head")))
    if m.pelvis_drop >= 0.3 and not flight:
        clauses.append(_pick(rng, ("crouches down", "squats down", "crouches")))
    if m.hands_meet >= 2:
        clauses.append(_pick(rng, ("claps the hands", "claps")))
    return clauses[:3]


def segment_captions(motion: HumanMotion, rng: np.random.Generator, wordings: int = 2) -> tuple[str | None, list[str]]:
    """The canonical action (first clause) and up to ``wordings`` sentences describing ``motion``.

    ``(None, [])`` when nothing is recognised or the segment floats (a performer on a prop).
    """
    measures = measure_motion(motion)
    canonical = describe(measures) if not measures.floats() else []
    if not canonical:
        return None, []
    out: list[str] = []
    for _ in range(wordings):
        clauses = describe(measures, rng)
        body = clauses[0] if len(clauses) == 1 else ", ".join(clauses[:-1]) + " and " + clauses[-1]
        sentence = f"{_pick(rng, SUBJECTS)} {body}"
        if sentence not in out:
            out.append(sentence)
    return canonical[0], out
