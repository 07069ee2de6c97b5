"""Fixtures every test directory shares."""
