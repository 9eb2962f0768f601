"""TALLY: one table, one migration (tests/tally/migrations/), one operation (`tally_add`: the
registry adds to a named count) and one leaf kind of its own (`tally`: a count, in the state
commitment)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import BigInteger, Column, Index, MetaData, String, Table

from anchoring.auditor.state_changes import EntriesSince
from ledger.effects import Changes, Row
from ledger.instructions import define_schema
from ledger.model import Role
from ledger.modules import LeafKind, Module, Operation
from ledger.ops.context import Context
from ledger.payloads import Payload
from tests.tally.store import TALLY_LEAF, all_tally_leaves, tally_key, tally_leaves

metadata = MetaData()

tally_counts = Table(
    "tally_counts", metadata,
    Column("name", String(64), primary_key=True),
    Column("count", BigInteger, nullable=False),
    Column("updated_seq", BigInteger, nullable=False),
    Index("ix_tally_counts_updated", "updated_seq"),
)


@dataclass(frozen=True)
class TallyAdd(Payload):
    name: str
    amount: int


SCHEMA = define_schema("tally_add", "TallyAdd", TallyAdd,
                       ("name", "string", "id"), ("amount", "uint64", "quantity"))


def tally_add(p: TallyAdd, ctx: Context) -> Changes:
    ctx.require_registry()
    stored = ctx.ws.row(tally_counts, (p.name,))
    count = (int(stored["count"]) if stored else 0) + p.amount
    return Changes(rows=[Row(tally_counts, (p.name,),
                             {"name": p.name, "count": count, "updated_seq": ctx.seq},
                             new=stored is None)])


def tallies_touched(since: EntriesSince) -> set[str]:
    """The counts that tally_add entries name: the only ones that change."""
    return {entry["instruction"]["fields"]["name"] for entry in since.entries
            if entry["instruction"]["op"] == "tally_add"}


TALLY_LEAVES = LeafKind(TALLY_LEAF, tally_key, tallies_touched, tally_leaves, all_tally_leaves,
                        {"tally_counts": ("name",)})

TALLY = Module("tally", operations=(Operation(SCHEMA, tally_add,
                                              frozenset({Role.registry.value})),),
               tables=(tally_counts,), migrations=Path(__file__).parent / "migrations",
               leaf_kinds=(TALLY_LEAVES,))
