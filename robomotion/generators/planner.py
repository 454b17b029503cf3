"""Text planner: the prompt's travel, turn and side words as constraints for the diffusion model.

``robomotion-small`` was trained on 106 distinct sentences that rarely name a speed, a
direction or a side, so it ignores those words. The planner reads them with a small lexicon
(:data:`LEXICON`, documented in ``docs/generation.md``) and turns them into constraints the
sampler already supports; the model then fills in the body around them:

* **travel** (a locomotion verb, or a direction word next to a jump): pelvis ground waypoints
  with headings (:class:`~robomotion.generators.constraints.Root2DConstraint`) every
  ``keyframe_spacing`` seconds along a path with the named direction (forward, backward,
  sideways left/right) and speed class; speeds ramp up from standing over ``ramp`` seconds.
  The model rebuilds its pelvis path from its own predicted root velocities, so the plan also
  inpaints those (:attr:`Plan.root_velocity`: heading rate and heading-frame velocity of the
  path, every frame; not for jumps, whose pelvis stops and flies): the legs then step at the
  planned speed instead of being dragged along the path by post-processing. Jog and run
  speeds are read but not planned (see :class:`PlannerConfig`);
* **turns** ("turns left", "a right turn", "turns around"): the heading swings by the named
  amount (90 degrees unless "around"/"half" = 180, "full" = 360) over the middle of the clip,
  in place or while walking;
* **circles** ("in a circle", "circular path"): a walk along a circle of ``circle_radius``
  metres, counter-clockwise (to the left) unless "right"/"clockwise" is said;
* **sides** ("raises the left hand", "both arms up", "waves the right hand"): end-effector
  keyframes (:class:`~robomotion.generators.constraints.EndEffectorConstraint`) every
  ``keyframe_spacing`` seconds holding the named wrist above the head (raise) or beside the
  head swinging out and in (wave), with the pelvis standing where the path puts it.

Parsing is deliberately simple: lower-case words, no negation, no clause structure; the side
word (left/right) that belongs to a body part is the one nearest to it. A prompt with none of
the words gives no constraints (:attr:`Plan.empty`), and the model's output is then exactly
what it was without the planner. Frames: canonical (pelvis over the origin facing +x at frame
0, +y = the person's left), metres, radians (yaw counter-clockwise seen from above).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from robomotion.generators.constraints import Constraint, EndEffectorConstraint, Root2DConstraint
from robomotion.rotations import matrix_to_quat
from robomotion.skeleton import Skeleton

__all__ = ["LEXICON", "Intent", "Plan", "PlannerConfig", "parse_intent", "plan_constraints"]

#: Word lists the planner understands (lower-case word forms; matching is per word).
LEXICON: dict[str, tuple[str, ...]] = {
    "walk": ("walk", "walks", "walking", "walked", "stroll", "strolls", "strolling", "step", "steps", "stepping",
             "stepped", "march", "marches", "marching", "pace", "paces", "pacing", "move", "moves", "moving", "moved",
             "go", "goes", "going", "travel", "travels", "travelling", "traveling", "shuffle", "shuffles",
             "shuffling", "stride", "strides", "striding", "sidestep", "sidesteps", "sidestepping", "wander",
             "wanders", "retreat", "retreats", "retreating", "advance", "advances", "proceed", "proceeds"),
    "jog": ("jog", "jogs", "jogging", "jogged", "trot", "trots", "trotting"),
    "run": ("run", "runs", "running", "ran", "sprint", "sprints", "sprinting", "sprinted", "dash", "dashes",
            "dashing", "race", "races", "racing", "rush", "rushes", "rushing"),
    "jump": ("jump", "jumps", "jumping", "jumped", "leap", "leaps", "leaping", "leapt", "bound", "bounds", "hop", "hops",
             "hopping", "hopped"),
    "slow": ("slow", "slowly", "carefully", "gently", "leisurely", "cautiously", "unhurried", "sluggishly"),
    "fast": ("fast", "quickly", "quick", "rapidly", "briskly", "brisk", "hurriedly", "swiftly"),
    "forward": ("forward", "forwards", "ahead", "straight", "onward", "onwards"),
    "backward": ("backward", "backwards", "reverse", "retreat", "retreats", "retreating", "backpedals", "backpedal"),
    "back": ("back",),  # backward only right after a locomotion verb ("steps back")
    "sideways": ("sideways", "sidestep", "sidesteps", "sidestepping", "laterally", "sidewise", "strafe", "strafes"),
    "turn": ("turn", "turns", "turning", "turned", "rotate", "rotates", "rotating", "pivot", "pivots", "pivoting",
             "spin", "spins", "spinning"),
    "around": ("around", "about", "half", "180"),
    "full": ("full", "360", "complete"),
    "circle": ("circle", "circles", "circling", "circular", "loop", "loops", "ring"),
    "clockwise": ("clockwise",),
    "counterclockwise": ("counterclockwise", "anticlockwise", "counter"),
    "left": ("left",),
    "right": ("right",),
    "both": ("both", "two", "hands", "arms"),
    "hand": ("hand", "arm", "fist", "palm", "hands", "arms"),
    "raise": ("raise", "raises", "raising", "raised", "lift", "lifts", "lifting", "lifted", "reach", "reaches",
              "reaching", "up", "overhead", "above", "high", "stretch", "stretches", "stretching", "hold", "holds",
              "holding", "puts", "put", "putting"),
    "wave": ("wave", "waves", "waving", "waved"),
}

_WORD_SETS = {key: frozenset(words) for key, words in LEXICON.items()}
#: "raise" needs one of these too, so "holds the left hand" alone plans nothing.
_UP_WORDS = frozenset(("up", "overhead", "above", "high", "raise", "raises", "raising", "raised", "lift", "lifts",
                       "lifting", "lifted"))


@dataclass(frozen=True)
class PlannerConfig:
    """Speeds (m/s), sizes (m), times (s) the planner uses.

    The speed classes follow the training data (mocap pack: walks 1.0-1.4 m/s, jogs and runs
    2.6-3.4 m/s); backward and sideways walking are slower, as people walk them.
    A plain forward walk at a normal pace is not planned either: the network walks forward by
    itself, and planning it measured more foot skate (held-out walks 0.64 -> 0.90 m/s) and
    soles skimming the floor at 1.1 m/s after retargeting to the G1.
    ``max_planned_speed``: paths faster than this are not planned. Measured on 2026-12-07:
    ``robomotion-small`` conditioned on jog/run paths (1.5-3 m/s) moves its pelvis along them
    but its feet stop stepping (its own contact labels off for 60-95 % of the clip, foot skate
    1.2-2.3 m/s against 0.4-1.0 m/s in real runs), so jog and run words are read but only
    recorded (``Plan.skipped``).
    ``hold_keyframe_spacing``: a raised hand is keyed this often up to the clip's last frame, so
    the blends around the keys overlap and the arm stays up (with 0.5 s keys it dropped and rose
    again between them: shoulder torques up to 230 % of the G1's limit after retargeting).
    """

    slow_speed: float = 0.7
    walk_speed: float = 1.2
    fast_walk_speed: float = 1.6
    jog_speed: float = 2.0
    run_speed: float = 3.0
    backward_speed: float = 0.7
    sideways_speed: float = 0.6
    jump_travel_speed: float = 0.5
    circle_radius: float = 1.2
    circle_speed: float = 1.0
    turn_angle: float = np.pi / 2
    ramp: float = 0.6
    keyframe_spacing: float = 0.5
    turn_keyframe_spacing: float = 0.2
    hold_keyframe_spacing: float = 0.2
    max_planned_speed: float = 1.6
    turn_window: tuple[float, float] = (0.2, 0.8)
    hand_above_head: float = 0.25


@dataclass(frozen=True)
class Intent:
    """What the planner read in a prompt (all None/0/() = nothing to plan).

    Attributes:
        direction: "forward", "backward", "left", "right" (direction of travel, body frame) or None.
        speed_class: "slow", "walk", "fast", "jog", "run" or None (no travel).
        jump: the prompt names a jump (travel is then a slow drift in ``direction``).
        turn: heading change (radians, + = left) or 0.
        circle: +1 counter-clockwise (left), -1 clockwise (right), 0 none.
        raise_hands: sides whose wrist goes above the head ("left", "right").
        wave_hands: sides that wave.
        words: the lexicon words that produced this intent.
    """

    direction: str | None = None
    speed_class: str | None = None
    jump: bool = False
    turn: float = 0.0
    circle: int = 0
    raise_hands: tuple[str, ...] = ()
    wave_hands: tuple[str, ...] = ()
    words: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return (self.speed_class is None and self.turn == 0.0 and not self.circle and not self.raise_hands
                and not self.wave_hands)

    def as_dict(self) -> dict:
        out = asdict(self)
        out["turn_degrees"] = round(float(np.degrees(self.turn)), 1)
        del out["turn"]
        out["raise_hands"], out["wave_hands"], out["words"] = list(self.raise_hands), list(self.wave_hands), list(self.words)
        return out


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower().replace("-", " "))


def _has(words: list[str], key: str) -> list[int]:
    return [i for i, w in enumerate(words) if w in _WORD_SETS[key]]


def _nearest_side(words: list[str], anchor: list[int]) -> str | None:
    """The left/right word nearest to any of the ``anchor`` word positions (None without one)."""
    sides = [(abs(i - a), words[i]) for i in _has(words, "left") + _has(words, "right") for a in anchor]
    return min(sides)[1] if sides else None


def parse_intent(text: str) -> Intent:
    """Read direction, speed, turn, circle and side words from ``text`` (see :data:`LEXICON`)."""
    words = _words(text)
    used: list[str] = []

    def find(key: str) -> list[int]:
        hits = _has(words, key)
        used.extend(words[i] for i in hits)
        return hits

    walk, jog, run, jump = find("walk"), find("jog"), find("run"), find("jump")
    slow, fast = find("slow"), find("fast")
    forward, backward, sideways = find("forward"), find("backward"), find("sideways")
    # sidestep/strafe are locomotion verbs themselves; "sideways" needs one ("moves sideways").
    moving = walk + jog + run + [i for i in sideways if words[i] not in ("sideways", "laterally", "sidewise")]
    backs = [i for i in _has(words, "back") if any(i - 1 == m or i - 2 == m for m in moving + jump)]
    used.extend(words[i] for i in backs)
    turn_hits, circle_hits = find("turn"), find("circle")
    left_right = _has(words, "left") + _has(words, "right")

    direction = None
    if sideways:
        direction = _nearest_side(words, sideways) or "left"
    elif backward or backs:
        direction = "backward"
    elif forward or moving:
        direction = "forward"

    circle = 0
    if circle_hits and (moving or not turn_hits):
        side = _nearest_side(words, circle_hits)
        clockwise = bool(find("clockwise")) and not find("counterclockwise")
        circle = -1 if side == "right" or clockwise else 1

    turn = 0.0
    if turn_hits and not circle:
        side = _nearest_side(words, turn_hits)
        if side is None and find("counterclockwise"):
            side = "left"
        elif side is None and find("clockwise"):
            side = "right"
        amount = np.pi / 2
        if find("full"):
            amount = 2 * np.pi
        elif find("around"):
            amount = np.pi
        turn = (-amount if side == "right" else amount) if side or amount >= np.pi else 0.0

    speed_class = None
    if run:
        speed_class = "run"
    elif jog:
        speed_class = "jog"
    elif moving or circle or (jump and (forward or backward or backs or sideways)):
        speed_class = "slow" if slow else "fast" if fast else "walk"
    if jump and not moving and direction is None:
        speed_class = None

    raise_hands: tuple[str, ...] = ()
    wave_hands: tuple[str, ...] = ()
    hands = _has(words, "hand")
    if hands and not moving:
        both = any(w in ("both", "two") for w in words) or (
            not left_right and any(words[i] in ("hands", "arms") for i in hands)
        )
        sides = ("left", "right") if both else tuple(s for s in [_nearest_side(words, hands)] if s)
        if find("wave") and sides:
            wave_hands = sides
            used.extend(words[i] for i in hands)
        elif sides and any(w in _UP_WORDS for w in words):
            raise_hands = sides
            used.extend(w for w in words if w in _UP_WORDS)
            used.extend(words[i] for i in hands)
    if left_right and (direction in ("left", "right") or turn or circle or raise_hands or wave_hands):
        used.extend(words[i] for i in left_right)
    return Intent(direction, speed_class, bool(jump), float(turn), circle, raise_hands, wave_hands,
                  tuple(dict.fromkeys(used)))


@dataclass
class Plan:
    """The planner's output for one prompt: its intent and the constraints it adds."""

    intent: Intent
    constraints: list[Constraint] = field(default_factory=list)
    root_velocity: np.ndarray | None = None
    skipped: str | None = None

    @property
    def empty(self) -> bool:
        return not self.constraints

    @property
    def exact_constraints(self) -> list[Constraint]:
        """The constraints post-processing hits exactly (all of them: without the exact hit the
        model drifts off the root path, measured: backward walks 2/4 instead of 4/4, circles 0/4)."""
        return list(self.constraints)

    def as_dict(self) -> dict:
        return {"intent": self.intent.as_dict(), "constraints": [c.type for c in self.constraints],
                "keyframes": [len(c.frame_indices) for c in self.constraints], "skipped": self.skipped}


def _speed(intent: Intent, config: PlannerConfig) -> float:
    if intent.speed_class is None:
        return 0.0
    if intent.jump and intent.speed_class in ("slow", "walk", "fast"):
        return config.jump_travel_speed
    if intent.circle:
        return config.circle_speed
    if intent.direction == "backward" and intent.speed_class in ("slow", "walk", "fast"):
        return config.backward_speed
    if intent.direction in ("left", "right") and intent.speed_class in ("slow", "walk", "fast"):
        return config.sideways_speed
    return {"slow": config.slow_speed, "walk": config.walk_speed, "fast": config.fast_walk_speed,
            "jog": config.jog_speed, "run": config.run_speed}[intent.speed_class]


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def root_path(intent: Intent, num_frames: int, fps: float, config: PlannerConfig = PlannerConfig()) -> tuple[np.ndarray, np.ndarray]:
    """Pelvis ground path (T, 2) and heading (T,) for ``intent`` (canonical frame, m, rad)."""
    t = np.arange(num_frames) / fps
    speed = _speed(intent, config) * _smoothstep(t / max(config.ramp, 1e-6))
    distance = np.concatenate([[0.0], np.cumsum((speed[1:] + speed[:-1]) / 2) / fps])
    if intent.circle:
        heading = intent.circle * distance / config.circle_radius
    else:
        start, end = (f * t[-1] for f in config.turn_window) if num_frames > 1 else (0.0, 1.0)
        heading = intent.turn * _smoothstep((t - start) / max(end - start, 1e-6))
    local = {"forward": (1.0, 0.0), "backward": (-1.0, 0.0), "left": (0.0, 1.0), "right": (0.0, -1.0)}
    step = np.asarray(local.get(intent.direction or "forward", (1.0, 0.0)))
    if intent.circle:
        step = np.array([1.0, 0.0])
    cos, sin = np.cos(heading), np.sin(heading)
    world = np.stack([cos * step[0] - sin * step[1], sin * step[0] + cos * step[1]], -1)
    velocity = world * speed[:, None]
    path = np.concatenate([np.zeros((1, 2)), np.cumsum((velocity[1:] + velocity[:-1]) / 2, axis=0) / fps])
    return path, heading


def root_velocity(path: np.ndarray, heading: np.ndarray, fps: float) -> np.ndarray:
    """(T, 3) heading rate (rad/s) and planar pelvis velocity in the heading frame (m/s) of a path,
    as the model's ``root_vel`` channels define them (forward differences, last row repeated)."""
    rate = np.diff(heading, append=heading[-1:] + (heading[-1:] - heading[-2:-1])) * fps
    step = np.diff(path, axis=0, append=path[-1:] + (path[-1:] - path[-2:-1])) * fps
    cos, sin = np.cos(heading), np.sin(heading)
    local = np.stack([cos * step[:, 0] + sin * step[:, 1], -sin * step[:, 0] + cos * step[:, 1]], -1)
    return np.concatenate([rate[:, None], local], -1)


def _arm_pose(skeleton: Skeleton, raised: dict[str, np.ndarray]) -> np.ndarray:
    """Rest-pose local rotations (J, 4) with each named shoulder swung so its arm points along ``raised[side]``."""
    rest = skeleton.rest_positions()
    rotations = np.tile(np.array([1.0, 0.0, 0.0, 0.0]), (skeleton.num_joints, 1))
    for side, direction in raised.items():
        shoulder, wrist = skeleton.index(f"{side}_shoulder"), skeleton.index(f"{side}_wrist")
        u = rest[wrist] - rest[shoulder]
        u, v = u / np.linalg.norm(u), direction / np.linalg.norm(direction)
        axis = np.cross(u, v)
        s, c = np.linalg.norm(axis), float(np.dot(u, v))
        k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]]) / max(s, 1e-12)
        angle = np.arctan2(s, c)
        matrix = np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k
        # Parents of the shoulder are at rest (identity), so the local rotation is the global one.
        rotations[shoulder] = matrix_to_quat(matrix)
    return rotations


def _hand_constraints(intent: Intent, skeleton: Skeleton, frames: np.ndarray, path: np.ndarray, heading: np.ndarray,
                      pelvis_height: float) -> list[Constraint]:
    """End-effector keyframes for raised or waving hands at ``frames``."""
    out: list[Constraint] = []
    names = {"left": "LeftHand", "right": "RightHand"}
    for sides, wave in ((intent.raise_hands, False), (intent.wave_hands, True)):
        if not sides:
            continue
        poses = []
        for k in range(len(frames)):
            directions = {}
            for side in sides:
                out_sign = 1.0 if side == "left" else -1.0
                if wave:  # forearm swings out and in, hand beside the head
                    lateral = 0.9 if k % 2 else 0.3
                    directions[side] = np.array([0.15, out_sign * lateral, 1.0])
                else:
                    directions[side] = np.array([0.1, out_sign * 0.15, 1.0])
            poses.append(_arm_pose(skeleton, directions))
        rotations = np.stack(poses)
        rotations[:, 0] = np.stack([np.cos(heading[frames] / 2), np.zeros(len(frames)), np.zeros(len(frames)),
                                    np.sin(heading[frames] / 2)], -1)
        root = np.concatenate([path[frames], np.full((len(frames), 1), pelvis_height)], -1)
        out.append(EndEffectorConstraint(frames, rotations, root, joint_names=tuple(names[s] for s in sides)))
    return out


def plan_constraints(text: str, num_frames: int, fps: float, skeleton: Skeleton, pelvis_height: float,
                     config: PlannerConfig = PlannerConfig()) -> Plan:
    """Parse ``text`` and build its constraints for a clip of ``num_frames`` frames at ``fps``.

    Args:
        pelvis_height: standing pelvis height of the model's data (m), used by hand keyframes.
    """
    intent = parse_intent(text)
    plan = Plan(intent)
    if intent.empty or num_frames < 2:
        return plan
    spacing = max(round(config.keyframe_spacing * fps), 1)
    travels = intent.speed_class is not None
    if travels and intent.speed_class == "walk" and intent.direction == "forward" and not intent.jump \
            and not (intent.turn or intent.circle or intent.raise_hands or intent.wave_hands):
        plan.skipped = "a forward walk at a normal pace is what the model does by itself: no path planned"
        return plan
    if travels and _speed(intent, config) > config.max_planned_speed:
        plan.skipped = (f"{intent.speed_class} at {_speed(intent, config):.1f} m/s is faster than the model steps "
                        f"along (max_planned_speed {config.max_planned_speed} m/s): no path planned")
        travels = False
    path, heading = root_path(intent if travels else replace(intent, speed_class=None), num_frames, fps, config)
    if travels or intent.turn or intent.circle:
        # A heading is only known modulo a full turn, so keyframes sit closer while it swings.
        root_spacing = max(round(config.turn_keyframe_spacing * fps), 1) if intent.turn else spacing
        frames = np.unique(np.concatenate([np.arange(0, num_frames, root_spacing), [num_frames - 1]]))
        plan.constraints.append(Root2DConstraint(frames, path[frames], heading[frames]))
        if not intent.jump:  # a jump's pelvis stops and flies; constant velocities would make it walk
            plan.root_velocity = root_velocity(path, heading, fps)
    # A raised hand is held: keyframes close enough (hold_keyframe_spacing) that the blends around
    # them overlap and the arm stays up between them instead of dropping and rising again at each
    # one (measured on the G1: shoulder torques up to 230 % of the limit with 0.5 s spacing). A
    # wave swings out and in from one keyframe to the next.
    for hands, seconds in ((replace(intent, wave_hands=[]), config.hold_keyframe_spacing),
                           (replace(intent, raise_hands=[]), config.keyframe_spacing)):
        if not (hands.raise_hands or hands.wave_hands):
            continue
        step = max(round(seconds * fps), 1)
        frames = np.arange(spacing, num_frames - step // 2, step)  # from 0.5 s: the arm gets there
        if hands.raise_hands and len(frames):  # held to the last frame: no release at the clip's end
            frames = np.unique(np.append(frames, num_frames - 1))
        if len(frames):
            plan.constraints += _hand_constraints(hands, skeleton, frames, path, heading, pelvis_height)
    return plan
