"""Domain services: each talks to the others only through streams."""
