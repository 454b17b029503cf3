"""The visual layer: what a person looks at.

``render`` (MuJoCo offscreen videos and contact sheets), ``scene`` (the scene they are drawn in:
robot, capsule-skeleton humans, floor, camera), ``viewer`` (the viser web viewer),
``constraint_markers`` (markers for generation constraints). It reads motions and reports; nothing
below it imports it.
"""
