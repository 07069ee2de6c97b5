"""Deterministic generators of a Games day: results, crowds, purchases, bets and incidents."""
