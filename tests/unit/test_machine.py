"""The shared state-machine helper: one table, one transition, one error type."""

from __future__ import annotations

from enum import Enum

import pytest

from flambeau.errors import FlambeauError, IllegalTransitionError
from flambeau.machine import Machine


class Door(Enum):
    OPEN = "open"
    SHUT = "shut"
    LOCKED = "locked"


class DoorError(IllegalTransitionError):
    pass


DOOR = Machine("door", {None: {Door.SHUT}, Door.OPEN: {Door.SHUT}, Door.SHUT: {Door.OPEN}})


def test_allowed_moves_return_the_target() -> None:
    assert DOOR.transition(None, Door.SHUT) is Door.SHUT
    assert DOOR.transition(Door.SHUT, Door.OPEN) is Door.OPEN
    assert DOOR.allowed(Door.OPEN) == {Door.SHUT}


def test_a_forbidden_move_names_the_machine_and_both_states() -> None:
    with pytest.raises(IllegalTransitionError, match="a door cannot go from open to locked") as e:
        DOOR.transition(Door.OPEN, Door.LOCKED)
    assert isinstance(e.value, FlambeauError)
    assert (e.value.machine, e.value.old, e.value.new) == ("door", Door.OPEN, Door.LOCKED)
    with pytest.raises(IllegalTransitionError, match="from nothing to open"):
        DOOR.transition(None, Door.OPEN)


def test_a_state_missing_from_the_table_is_final() -> None:
    assert DOOR.allowed(Door.LOCKED) == frozenset()
    with pytest.raises(IllegalTransitionError, match="the cellar door cannot go from locked"):
        DOOR.transition(Door.LOCKED, Door.OPEN, subject="the cellar door")


def test_a_machine_raises_its_own_subclass_with_its_own_message() -> None:
    def explain(current: Door | None, target: Door, subject: str) -> str:
        return f"{subject}: {target.value} refused"

    door = Machine("door", {Door.OPEN: {Door.SHUT}}, error=DoorError, explain=explain)
    with pytest.raises(DoorError, match="front: open refused"):
        door.transition(Door.SHUT, Door.OPEN, subject="front")
