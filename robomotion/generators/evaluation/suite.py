"""The text-agreement prompt suite: action families, wordings, and a rule on joint positions per family.

Every family has *tuning* wordings (the ones a developer may look at while changing the model)
and *held-out* wordings (different phrasings, reported as the score). Sided families (kick,
punch, wave, raise one hand, hop, sidestep, turn) carry the side as a case parameter, and their
rule checks the named side, not just "a limb". Out-of-vocabulary prompts (actions absent from
the training data) are listed separately: the model must warn about them.

Rules read :class:`~robomotion.generators.evaluation.measures.MotionMeasures`; thresholds are in
SI units and written next to each rule. A clip *matches* when its family's rule holds and it
neither floats nor tumbles (see :class:`~robomotion.generators.evaluation.measures.GroundingLimits`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from robomotion.generators.evaluation.measures import MotionMeasures

__all__ = ["FAMILIES", "OUT_OF_VOCABULARY", "Family", "PromptCase", "suite_cases"]

_OTHER = {"left": "right", "right": "left"}


@dataclass(frozen=True)
class Family:
    """An action family: its rule and its wordings.

    Attributes:
        name: family key, e.g. ``"walk_backward"``.
        group: reporting group (locomotion, jumps, kicks/punches, arms, other).
        rule: ``rule(measures, side) -> (passed, reason)``.
        tune: tuning wordings as (text, side) pairs (side None for unsided families).
        heldout: held-out wordings, same form.
    """

    name: str
    group: str
    rule: Callable[[MotionMeasures, str | None], tuple[bool, str]]
    tune: tuple[tuple[str, str | None], ...]
    heldout: tuple[tuple[str, str | None], ...]


@dataclass(frozen=True)
class PromptCase:
    """One prompt of the suite."""

    family: str
    group: str
    text: str
    split: str  # "tune" or "heldout"
    side: str | None = None


# ---------------------------------------------------------------------------- rules
def _walk_forward(m: MotionMeasures, side: str | None) -> tuple[bool, str]:
    ok = 0.5 <= m.forward_speed <= 2.0 and abs(m.left_speed) < 0.5 * m.forward_speed
    return ok, f"forward {m.forward_speed:.2f} m/s (0.5-2.0), sideways {m.left_speed:.2f}"


def _walk_slow(m: MotionMeasures, side: str | None) -> tuple[bool, str]:
    return 0.15 <= m.forward_speed <= 0.9, f"forward {m.forward_speed:.2f} m/s (0.15-0.9)"


def _run(m: MotionMeasures, side: str | None) -> tuple[bool, str]:
    return m.forward_speed >= 1.7, f"forward {m.forward_speed:.2f} m/s (>= 1.7; the data's jogs and runs: 2.6-3.4)"


def _walk_backward(m: MotionMeasures, side: str | None) -> tuple[bool, str]:
    return m.forward_speed <= -0.3, f"forward {m.forward_speed:.2f} m/s (<= -0.3)"


def _sidestep(m: MotionMeasures, side: str | None) -> tuple[bool, str]:
    sign = 1.0 if side == "left" else -1.0
    lateral = sign * m.left_speed
    ok = lateral >= 0.25 and abs(m.forward_speed) < lateral
    return ok, f"towards the {side} {lateral:.2f} m/s (>= 0.25), forward {m.forward_speed:.2f}"


def _turn(m: MotionMeasures, side: str | None) -> tuple[bool, str]:
    sign = 1.0 if side == "left" else -1.0
    turn = sign * m.net_turn
    return 45.0 <= turn <= 270.0, f"turn to the {side} {turn:.0f} deg (45-270)"


def _circle(m: MotionMeasures, side: str | None) -> tuple[bool, str]:
    ok = abs(m.path_turn) >= 180.0 and m.travel_speed >= 0.3
    return ok, f"travel direction turns {m.path_turn:.0f} deg (|.| >= 180), travel {m.travel_speed:.2f} m/s (>= 0.3)"


def _jump(m: MotionMeasures, side: str | None) -> tuple[bool, str]:
    ok = m.longest_flight >= 0.13 and m.flight_clearance >= 0.10
    return ok, f"flight {m.longest_flight:.2f} s (>= 0.13), clearance {m.flight_clearance:.2f} m (>= 0.10)"


def _jump_forward(m: MotionMeasures, side: str | None) -> tuple[bool, str]:
    ok, why = _jump(m, side)
    return ok and m.forward_speed >= 0.2, f"{why}, forward {m.forward_speed:.2f} m/s (>= 0.2)"


def _hop(m: MotionMeasures, side: str | None) -> tuple[bool, str]:
    # Hopping on the named foot: the other foot is held up, and the body leaves the floor.
    up = m.foot_up_share[_OTHER[side]]
    ok = up >= 0.5 and m.longest_flight >= 0.1
    return ok, f"{_OTHER[side]} foot up {up:.0%} of the time (>= 50%), flight {m.longest_flight:.2f} s (>= 0.1)"


def _kick(m: MotionMeasures, side: str | None) -> tuple[bool, str]:
    named, other = m.ankle_lift[side], m.ankle_lift[_OTHER[side]]
    ok = named >= 0.30 and named > other + 0.1
    return ok, f"{side} ankle up to {named:.2f} m above the standing one (>= 0.30), {_OTHER[side]} {other:.2f}"


def _punch(m: MotionMeasures, side: str | None) -> tuple[bool, str]:
    named, other = m.hand_reach[side], m.hand_reach[_OTHER[side]]
    ok = named >= 0.45 and named > other
    return ok, f"{side} wrist {named:.2f} m in front of the chest (>= 0.45, > {_OTHER[side]} {other:.2f})"


def _wave(m: MotionMeasures, side: str | None) -> tuple[bool, str]:
    raised, other = m.hand_above_shoulder[side], m.hand_above_shoulder[_OTHER[side]]
    speed = m.hand_wave_speed[side]
    ok = raised >= 0.25 and other <= 0.5 * raised and speed >= 0.2
    return ok, f"{side} wrist above shoulder {raised:.0%} (>= 25%), {_OTHER[side]} {other:.0%} (<= half), moving {speed:.2f} m/s (>= 0.2)"


def _raise_hand(m: MotionMeasures, side: str | None) -> tuple[bool, str]:
    named, other = m.hand_above_head[side], m.hand_above_head[_OTHER[side]]
    ok = named >= 0.2 and other <= 0.5 * named
    return ok, f"{side} wrist above head {named:.0%} (>= 20%), {_OTHER[side]} {other:.0%} (<= half)"


def _raise_both(m: MotionMeasures, side: str | None) -> tuple[bool, str]:
    both = min(m.hand_above_head.values())
    return both >= 0.2, f"both wrists above the head {both:.0%} (>= 20%)"


def _crouch(m: MotionMeasures, side: str | None) -> tuple[bool, str]:
    return m.pelvis_drop >= 0.25, f"pelvis drops {m.pelvis_drop:.2f} m with a foot down (>= 0.25)"


def _clap(m: MotionMeasures, side: str | None) -> tuple[bool, str]:
    return m.hands_meet >= 2, f"hands meet {m.hands_meet} times (>= 2)"


FAMILIES: tuple[Family, ...] = (
    Family("walk_forward", "locomotion", _walk_forward,
           (("a person walks forward", None), ("someone walks straight ahead", None)),
           (("a man strolls forward at a normal pace", None), ("the person takes steps forward in a straight line", None))),
    Family("walk_slow", "locomotion", _walk_slow,
           (("a person walks slowly forward", None), ("someone walks forward at a slow pace", None)),
           (("a man slowly strolls ahead", None), ("the person walks forward very slowly and carefully", None))),
    Family("jog_run", "locomotion", _run,
           (("a person jogs forward", None), ("someone runs forward", None)),
           (("a man sprints ahead", None), ("the person runs forward quickly", None))),
    Family("walk_backward", "locomotion", _walk_backward,
           (("a person walks backward", None), ("someone walks backwards", None)),
           (("a man steps back several times", None), ("the person moves backward, walking in reverse", None))),
    Family("sidestep", "locomotion", _sidestep,
           (("a person walks sideways to the left", "left"), ("someone sidesteps to the right", "right")),
           (("a man shuffles sideways to his right", "right"), ("the person steps sideways toward the left", "left"))),
    Family("turn", "locomotion", _turn,
           (("a person turns left", "left"), ("someone walks and turns to the right", "right")),
           (("a man makes a right turn while walking", "right"), ("the person rotates toward the left", "left"))),
    Family("circle", "locomotion", _circle,
           (("a person walks in a circle", None), ("someone walks around in a circle", None)),
           (("a man walks along a circular path", None), ("the person circles around while walking", None))),
    Family("jump", "jumps", _jump,
           (("a person jumps up", None), ("someone jumps in place", None)),
           (("a man bounces up and down on both feet", None), ("the person leaps into the air", None))),
    Family("jump_forward", "jumps", _jump_forward,
           (("a person jumps forward", None), ("someone does a long jump forward", None)),
           (("a man leaps ahead", None), ("the person jumps forward with both feet", None))),
    Family("hop", "jumps", _hop,
           (("a person hops on the left leg", "left"), ("someone hops on the right foot", "right")),
           (("a man jumps repeatedly on his right leg", "right"), ("the person hops on one foot, the left one", "left"))),
    Family("kick", "kicks/punches", _kick,
           (("a person kicks with the right leg", "right"), ("someone kicks forward with the left foot", "left")),
           (("a man does a high kick with his left leg", "left"), ("the person kicks the air with the right foot", "right"))),
    Family("punch", "kicks/punches", _punch,
           (("a person punches with the right hand", "right"), ("someone throws a punch with the left fist", "left")),
           (("a man jabs forward with his left arm", "left"), ("the person punches straight ahead with the right fist", "right"))),
    Family("wave", "arms", _wave,
           (("a person waves with the right hand", "right"), ("someone waves the left hand", "left")),
           (("a man waves hello with his left hand", "left"), ("the person greets by waving the right hand", "right"))),
    Family("raise_hand", "arms", _raise_hand,
           (("a person raises the right hand above the head", "right"), ("someone lifts the left arm up high", "left")),
           (("a man puts his left hand up over his head", "left"), ("the person reaches up high with the right arm", "right"))),
    Family("raise_both", "arms", _raise_both,
           (("a person raises both arms", None), ("someone lifts both hands above the head", None)),
           (("a man puts both arms up in the air", None), ("the person stretches both arms overhead", None))),
    Family("crouch", "other", _crouch,
           (("a person squats down", None), ("someone crouches", None)),
           (("a man bends his knees and squats low", None), ("the person ducks down into a crouch", None))),
    Family("clap", "other", _clap,
           (("a person claps hands", None), ("someone claps", None)),
           (("a man applauds by clapping his hands together", None), ("the person claps several times", None))),
)

#: Actions absent from the training data (none of its captions describes them).
OUT_OF_VOCABULARY: tuple[str, ...] = (
    "a person plays the violin",
    "someone climbs up a ladder",
    "a man lifts a heavy box from the floor",
    "a person sits down on a chair",
    "someone swims freestyle",
    "a person rides a bicycle",
    "a woman types on a keyboard",
    "a person brushes their teeth",
)


def suite_cases(split: str = "heldout", families: tuple[Family, ...] = FAMILIES) -> list[PromptCase]:
    """The suite's prompts of one split (``"tune"``, ``"heldout"`` or ``"all"``)."""
    if split not in ("tune", "heldout", "all"):
        raise ValueError(f"split must be 'tune', 'heldout' or 'all', got {split!r}")
    cases = []
    for family in families:
        for name, wordings in (("tune", family.tune), ("heldout", family.heldout)):
            if split in (name, "all"):
                cases += [PromptCase(family.name, family.group, text, name, side) for text, side in wordings]
    return cases
