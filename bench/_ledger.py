"""A small real ledger for the benchmarks: emitters, each allocated one batch, sending random
transfers to each other. Shared by bench/anchoring.py and bench/checkpoint.py (not a benchmark
itself: `make bench` runs only the scripts whose names do not start with an underscore)."""

from __future__ import annotations

import random
from typing import Any

from api.bootstrap import operation_set
from ledger.client import Wallet
from ledger.engine import Ledger
from ledger.errors import Rejected
from ledger.instructions import SignedInstruction, make_domain
from ledger.schemes import load_rules_dir, rules_document
from ledger.store.database import Store

OPERATIONS = operation_set()  # the composition root's, as every part is handed


class BenchLedger:
    """A real ledger with HOLDERS emitters (accounts E0.., batches A0.. of 1,000,000 t)."""

    HOLDERS = 20

    def __init__(self, store: Store, chain_id: int = 31337) -> None:
        self.ledger = Ledger(store, OPERATIONS)
        domain = make_domain(chain_id)
        self.registry = Wallet((0xB0B).to_bytes(32, "big"), domain)
        self.wallets = [Wallet((0xA000 + i).to_bytes(32, "big"), domain)
                        for i in range(self.HOLDERS)]
        self._submit([self.registry.sign(OPERATIONS.instruction(
            "genesis", registry="registry", registryName="Bench registry",
            registryKey=self.registry.address, chainId=chain_id,
            rules=rules_document(load_rules_dir())))])
        setup: list[tuple[str, dict[str, Any]]] = []
        for i, wallet in enumerate(self.wallets):
            setup += [
                ("register_participant", {"participant": f"e{i}", "name": f"E{i}",
                                          "role": "emitter"}),
                ("register_key", {"participant": f"e{i}", "key": wallet.address}),
                ("open_account", {"account": f"E{i}", "participant": f"e{i}",
                                  "accountType": "compliance"}),
                ("issue_batch", {"batch": f"A{i}", "scheme": "CN-ETS", "kind": "allowance",
                                 "vintage": 2025, "issuance": "free_allocation",
                                 "quantity": 1_000_000, "account": f"E{i}"}),
            ]
        self._submit([self.registry.sign(OPERATIONS.instruction(op, **fields))
                      for op, fields in setup])

    def transfers(self, rng: random.Random, count: int) -> None:
        """Each transfer sends a few units of the sender's own batch to another account."""
        signed: list[SignedInstruction] = []
        for _ in range(count):
            i = rng.randrange(self.HOLDERS)
            j = (i + rng.randrange(1, self.HOLDERS)) % self.HOLDERS
            signed.append(self.wallets[i].sign(OPERATIONS.instruction(
                "transfer", fromAccount=f"E{i}", toAccount=f"E{j}", batch=f"A{i}",
                quantity=rng.randint(1, 50))))
        for start in range(0, len(signed), 200):
            self._submit(signed[start:start + 200])

    def _submit(self, submission: list[SignedInstruction]) -> None:
        for result in self.ledger.submit_many(submission):
            if isinstance(result, Rejected):
                raise RuntimeError(f"bench instruction refused: {result}")
