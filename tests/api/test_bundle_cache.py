"""Proof bundles kept by the service: handed out again while their checkpoint's state is
unchanged, built again once a cosignature or an anchor is added to it, and never shared with
a caller that changes what it was handed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from anchoring.auditor.cosignature import WitnessKey, cosign
from anchoring.auditor.verify import Verified, verify_bundle
from api.bootstrap import App, build, init_ledger, registry_wallet
from api.bundle_cache import BundleCache
from api.config import load_config
from custody import ed25519
from ledger.journal import Receipt

PASSWORD = "pw"
WITNESS_SEED = bytes([7]) * 32


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    """A ledger with a batch of 100 t in account A, and checkpoint 1."""
    data = tmp_path / "ledger"
    init_ledger(data, registry="MEE", registry_name="Ministry", password=PASSWORD,
                scrypt_n=2**4)
    with build(load_config(data), data, password=lambda: PASSWORD) as app:
        registry = registry_wallet(app.config, data, PASSWORD)
        operations = app.service.operations
        setup: list[tuple[str, dict[str, Any]]] = [
            ("register_participant", {"participant": "mee", "name": "MEE", "role": "emitter"}),
            ("open_account", {"account": "A", "participant": "mee", "accountType": "trading"}),
            ("issue_batch", {"batch": "X", "scheme": "CN-ETS", "kind": "allowance",
                             "vintage": 2025, "issuance": "free_allocation", "quantity": 100,
                             "account": "A"})]
        results = app.service.submit_many([registry.sign(operations.instruction(op, **f))
                                           .as_json() for op, f in setup])
        assert all(isinstance(r, Receipt) for r in results), results
        app.service.cut_checkpoint()
        yield app


def _verified_with(app: App, bundle: dict[str, Any], *witnesses: WitnessKey) -> Verified:
    operator = app.service.operator
    assert operator is not None
    kinds = tuple(app.service.operations.bundle_kinds.values())
    return verify_bundle(bundle, operator, kinds, witnesses=witnesses)


def test_a_bundle_asked_for_again_is_the_same_and_a_cosignature_makes_it_anew(
        app: App) -> None:
    service = app.service
    (lot,) = service.lots(account="A")
    first = service.prove("lot", lot.id)
    assert service.prove("lot", lot.id) == first
    assert service.prove("lot", lot.id, checkpoint=1) == first  # 1 is the latest

    # a witness cosigns checkpoint 1: the bundle is built again, and carries the cosignature
    witness = WitnessKey("witness.example/w1", ed25519.public_key(WITNESS_SEED))
    line = cosign(first["checkpoint"], witness.name, WITNESS_SEED, int(time.time()))
    assert service.add_cosignatures(first["checkpoint"] + line, [witness])
    cosigned = service.prove("lot", lot.id)
    assert cosigned["checkpoint"] == first["checkpoint"] + line
    assert cosigned["state"] == first["state"]
    assert _verified_with(app, cosigned, witness).cosigned_by

    # a later checkpoint: the latest bundle is of it; the one of checkpoint 1 is unchanged
    service.cut_checkpoint()
    latest = service.prove("lot", lot.id)
    assert _verified_with(app, latest).checkpoint.number == 2
    assert service.prove("lot", lot.id, checkpoint=1) == cosigned


def test_a_caller_that_changes_its_bundle_changes_nobody_else_s(app: App) -> None:
    (lot,) = app.service.lots(account="A")
    handed = app.service.prove("lot", lot.id)
    handed["state"]["value"] = None
    handed["checkpoint"] = "forged"
    again = app.service.prove("lot", lot.id)
    assert again["checkpoint"] != "forged" and again["state"]["value"] is not None
    assert _verified_with(app, again)


def test_the_least_recently_used_bundle_goes_first() -> None:
    cache = BundleCache(2)
    cache.put("a", {"n": 1})
    cache.put("b", {"n": 2})
    assert cache.get("a") == {"n": 1}  # a is now the more recent
    cache.put("c", {"n": 3})
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == ({"n": 1}, None, {"n": 3})
    assert len(cache) == 2
    with pytest.raises(ValueError, match="at least 1"):
        BundleCache(0)
