"""Flambeau."""
