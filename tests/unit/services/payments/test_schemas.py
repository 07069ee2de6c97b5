"""The payments streams and their payloads at the edges (JSON) and in the log (MessagePack)."""

from __future__ import annotations

import msgspec
import pytest

from flambeau.events import default_registry
from flambeau.services.payments.results import TransferResult as R
from flambeau.services.payments.schemas import (
    MAX_BATCH,
    U128_MAX,
    AccountsDecided,
    CreateAccounts,
    CreateTransfers,
    FraudAlert,
    RequestRejected,
    TransfersDecided,
    TransfersExpired,
)

from .ledgers import transfer


def test_the_three_streams_are_registered_with_eight_partitions() -> None:
    specs = {
        name: default_registry.spec(name)
        for name in ("payments.requests", "payments.transfers", "payments.alerts")
    }
    assert {spec.partitions for spec in specs.values()} == {8}
    assert specs["payments.requests"].types == {CreateAccounts, CreateTransfers}
    assert specs["payments.transfers"].types == {
        AccountsDecided,
        TransfersDecided,
        TransfersExpired,
        RequestRejected,
    }
    assert specs["payments.alerts"].types == {FraudAlert}


def decode_request(body: str) -> object:
    return default_registry.json_decoder("payments.requests").decode(body)


BIG = str(U128_MAX - 1)


def test_a_json_request_with_decimal_string_ids_decodes() -> None:
    request = decode_request(
        '{"type": "create_transfers", "idempotency_key": "k", "ledger": 1, "transfers": '
        f'[{{"id": "{BIG}", "debit_account_id": "1", "credit_account_id": "2", "amount": 5,'
        ' "ledger": 1, "code": 1}]}'
    )
    assert isinstance(request, CreateTransfers)
    assert request.transfers[0].id == BIG


@pytest.mark.parametrize(
    ("transfer_json", "complaint"),
    [
        ('{"id": "1", "amount": 5.0}', "Expected `int`, got `float`"),
        ('{"id": "1", "amount": -5}', "Expected `int` >= 0"),
        ('{"id": 1, "amount": 5}', "Expected `str`, got `int`"),
        ('{"id": "1", "amount": 5, "ledger": 4294967296}', "Expected `int` <= 4294967295"),
        (f'{{"id": "{"1" * 40}"}}', "length <= 39"),
    ],
)
def test_bad_transfers_are_refused_at_decoding_naming_the_field(
    transfer_json: str, complaint: str
) -> None:
    body = (
        '{"type": "create_transfers", "idempotency_key": "k", "ledger": 1, '
        f'"transfers": [{transfer_json}]}}'
    )
    with pytest.raises(msgspec.ValidationError, match=complaint) as raised:
        decode_request(body)
    assert "$.transfers[0]" in str(raised.value)


def test_a_batch_is_limited_and_needs_an_idempotency_key() -> None:
    too_many = ",".join(['{"id": "1"}'] * (MAX_BATCH + 1))
    with pytest.raises(msgspec.ValidationError, match="length <= 8000"):
        decode_request(
            '{"type": "create_transfers", "idempotency_key": "k", "ledger": 1, '
            f'"transfers": [{too_many}]}}'
        )
    with pytest.raises(msgspec.ValidationError, match="idempotency_key"):
        decode_request('{"type": "create_transfers", "ledger": 1, "transfers": [{"id": "1"}]}')


def test_decisions_round_trip_through_the_log_encoding() -> None:
    decided = TransfersDecided(
        idempotency_key="k",
        ledger=1,
        results=[R.ok, R.exceeds_credits],
        transfers=[transfer(BIG, amount=2**63 - 1)],
    )
    decoded = default_registry.decoder("payments.transfers").decode(msgspec.msgpack.encode(decided))
    assert decoded == decided
    assert b'"exceeds_credits"' in msgspec.json.encode(decided)
