"""Robot models shipped with robomotion (currently the Unitree G1 29-DoF)."""
