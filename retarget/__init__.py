"""Human motion to robot joint trajectories by inverse kinematics (installed as ``robomotion.retarget``)."""
