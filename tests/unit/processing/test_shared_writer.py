"""A stream its owner shares: exactly the processors it names may write it, of any service."""

from __future__ import annotations

import re

import pytest

from flambeau.events import Registry, Writer
from flambeau.processing import Processor, ProcessorConfigError
from tests.unit.processing.schemas import Note


def make_registry() -> Registry:
    registry = Registry()
    registry.register("alpha.notes", Note, partitions=2)
    registry.register("beta.notes", Note, partitions=2)
    shared = Writer.shared_by("alpha.p", "beta.p")
    registry.register("ops.shared", Note, partitions=2, writer=shared)
    return registry


def test_the_named_processors_of_several_services_write_it_together() -> None:
    registry = make_registry()
    Processor("alpha.p", inputs=["alpha.notes"], outputs=["ops.shared"], registry=registry)
    Processor("beta.p", inputs=["beta.notes"], outputs=["ops.shared"], registry=registry)

    writer = registry.spec("ops.shared").writer
    assert writer is not None
    assert (writer.kind, set(writer.processors)) == ("processor", {"alpha.p", "beta.p"})
    assert set(writer.inputs) == {"alpha.notes", "beta.notes"}


def test_a_processor_the_owner_did_not_name_is_refused_even_of_a_named_service() -> None:
    registry = make_registry()
    Processor("alpha.p", inputs=["alpha.notes"], outputs=["ops.shared"], registry=registry)
    for name in ("alpha.q", "gamma.p"):
        with pytest.raises(ProcessorConfigError, match=f"{re.escape(name)} cannot write it too"):
            Processor(name, inputs=["alpha.notes"], outputs=["ops.shared"], registry=registry)


def test_an_unshared_stream_still_takes_one_service_only() -> None:
    registry = make_registry()
    Processor("alpha.p", inputs=["alpha.notes"], outputs=["beta.notes"], registry=registry)
    Processor("alpha.q", inputs=["alpha.notes"], outputs=["beta.notes"], registry=registry)
    with pytest.raises(ProcessorConfigError, match=r"beta\.p cannot write it too"):
        Processor("beta.p", inputs=["alpha.notes"], outputs=["beta.notes"], registry=registry)
