"""The core's tables. The journal is the source of truth; every other table is a projection
that a replay of the journal rebuilds exactly. The core's Alembic migrations create these; a
module's own tables are declared by its module (`ledger.modules.Module.tables`), on a MetaData
of its own, and created by its own migrations. A test checks that the migrated schema and
`metadata_of(...)` agree."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    text,
)

metadata = MetaData()
HOLDING_BUCKETS = ("tradable", "pledged", "retired", "surrendered", "cancelled")

journal = Table(
    "journal", metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("instruction_id", LargeBinary(32), nullable=False, unique=True),
    Column("body_hash", LargeBinary(32), nullable=False),
    Column("op", String(40), nullable=False),
    Column("entry", LargeBinary, nullable=False),
    Column("leaf_hash", LargeBinary(32), nullable=False),
    Column("accepted_at", String(30), nullable=False),
)

# One row; every writer locks it first, which serialises appends and keeps seq gapless.
journal_head = Table(
    "journal_head", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    # number of the last checkpoint marker appended (0: none yet)
    Column("checkpoint", BigInteger, nullable=False),
)

participants = Table(
    "participants", metadata,
    Column("id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("role", String(20), nullable=False),
    Column("registered_seq", BigInteger, nullable=False),
)

signing_keys = Table(
    "signing_keys", metadata,
    Column("address", String(42), primary_key=True),
    Column("participant", String(64), nullable=False, index=True),
    Column("registered_seq", BigInteger, nullable=False),
    Column("revoked_seq", BigInteger, nullable=True),
    Column("last_nonce", BigInteger, nullable=False),
)

accounts = Table(
    "accounts", metadata,
    Column("id", String(64), primary_key=True),
    Column("participant", String(64), nullable=False, index=True),
    Column("type", String(20), nullable=False),
    Column("frozen", Boolean, nullable=False),
    Column("freeze_reason", Text, nullable=False),
    Column("opened_seq", BigInteger, nullable=False),
)

batches = Table(
    "batches", metadata,
    Column("id", String(64), primary_key=True),
    Column("scheme", String(64), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("vintage", Integer, nullable=False),
    Column("project", Text, nullable=False),
    Column("monitoring_start", String(10), nullable=False),
    Column("monitoring_end", String(10), nullable=False),
    Column("issuance", String(20), nullable=False),
    Column("quantity", BigInteger, nullable=False),
    Column("serial_prefix", Text, nullable=False),
    Column("issued_seq", BigInteger, nullable=False),
    CheckConstraint("quantity > 0", name="ck_batches_quantity"),
)

lots = Table(
    "lots", metadata,
    Column("id", String(40), primary_key=True),
    Column("batch", String(64), nullable=False),
    Column("serial_first", BigInteger, nullable=False),
    Column("serial_last", BigInteger, nullable=False),
    Column("account", String(64), nullable=False),
    Column("state", String(20), nullable=False),
    Column("lien", String(64), nullable=True),
    Column("created_seq", BigInteger, nullable=False),
    # oldest-serials-first selection: the tradable lots of one account and batch, in order
    Index("ix_lots_holder", "account", "batch", "state", "serial_first"),
    # range selection: lots of a batch by their last serial
    Index("ix_lots_batch_last", "batch", "serial_last"),
    # lots under a lien, by lien (most lots have none: their NULLs are not indexed)
    Index("ix_lots_lien", "lien", sqlite_where=text("lien IS NOT NULL"),
          postgresql_where=text("lien IS NOT NULL")),
    # a lot is a non-empty serial range (the database refuses a row that is not, whoever
    # writes it; revision 0006)
    CheckConstraint("serial_first >= 1", name="ck_lots_serial_first"),
    CheckConstraint("serial_last >= serial_first", name="ck_lots_serial_last"),
)

holdings = Table(
    "holdings", metadata,
    Column("account", String(64), primary_key=True),
    Column("batch", String(64), primary_key=True),
    Column("tradable", BigInteger, nullable=False),
    Column("pledged", BigInteger, nullable=False),
    Column("retired", BigInteger, nullable=False),
    Column("surrendered", BigInteger, nullable=False),
    Column("cancelled", BigInteger, nullable=False),
    # no bucket is ever below zero (revision 0006)
    *(CheckConstraint(f"{bucket} >= 0", name=f"ck_holdings_{bucket}")
      for bucket in HOLDING_BUCKETS),
)

liens = Table(
    "liens", metadata,
    Column("id", String(64), primary_key=True),
    Column("holder", String(64), nullable=False),
    Column("purpose", String(40), nullable=False),
    Column("created_seq", BigInteger, nullable=False),
)

scheme_rules = Table(
    "scheme_rules", metadata,
    Column("scheme", String(64), primary_key=True),
    Column("rules", Text, nullable=False),
    Column("recorded_seq", BigInteger, nullable=False),
)


# Each row of a module's table (ledger.effects.Row) as it was before a transaction first
# changed it (`before` NULL: it did not exist), under the seq of the entry that did. The
# checkpointer reads a row as it was at the previous checkpoint from here (the earliest undo
# at or after that checkpoint's size; none: the row as it is), since such rows are changed in
# place and the state root does not commit them (docs/adr/0008).
row_undo = Table(
    "row_undo", metadata,
    Column("table_name", String(64), primary_key=True),
    Column("row_key", Text, primary_key=True),  # the primary-key values as a JSON array
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("before", Text, nullable=True),  # the row's values as a JSON object
)


# The core's projections; a module's own tables (ledger.modules.Module.tables) are projections
# too, and replay compares them as well.
CORE_PROJECTIONS = (participants, signing_keys, accounts, batches, lots, holdings, liens,
                    scheme_rules)


# --- checkpoints, the journal's Merkle log and the state commitment (anchoring/) -------------
# Not projections: a replay does not rebuild them; the audit recomputes and compares them.

# One row per signed checkpoint. `note` is the signed checkpoint itself (a C2SP signed note,
# docs/proof-format.md); the other columns index it. The anchor columns stay NULL until the
# checkpoint is anchored on chain.
checkpoints = Table(
    "checkpoints", metadata,
    Column("number", BigInteger, primary_key=True, autoincrement=False),
    Column("log_size", BigInteger, nullable=False),
    Column("log_root", LargeBinary(32), nullable=False),
    Column("state_root", LargeBinary(32), nullable=False),
    Column("cut_at", String(30), nullable=False),
    Column("origin", Text, nullable=False),
    Column("signer", String(42), nullable=False),
    Column("note", Text, nullable=False),
    Column("anchor_chain_id", BigInteger, nullable=True),
    Column("anchor_contract", String(42), nullable=True),
    Column("anchor_tx_hash", LargeBinary(32), nullable=True),
    Column("anchor_block_number", BigInteger, nullable=True),
    Column("anchor_block_time", BigInteger, nullable=True),  # unix seconds, the block's
)

# The log's complete perfect subtrees above the leaves (anchoring/operator/log_store.py): node
# (level, idx) is the root of leaves [idx * 2**level, (idx + 1) * 2**level). Level 0 is the
# journal's leaf_hash column, not stored twice.
log_nodes = Table(
    "log_nodes", metadata,
    Column("level", Integer, primary_key=True, autoincrement=False),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(32), nullable=False),
)

# Versions of the state commitment's leaves (anchoring/operator/state_versions.py): a row
# holds `value` at `key` for checkpoints from_checkpoint <= k < to_checkpoint (NULL: still current).
state_leaves = Table(
    "state_leaves", metadata,
    Column("key", LargeBinary(32), primary_key=True),
    Column("from_checkpoint", BigInteger, primary_key=True, autoincrement=False),
    Column("to_checkpoint", BigInteger, nullable=True),
    Column("value", LargeBinary, nullable=False),
    Index("ix_state_leaves_from", "from_checkpoint"),
    Index("ix_state_leaves_to", "to_checkpoint"),
)

# The state commitment's tree, persisted (anchoring/operator/state_tree/store.py): a node is
# written once, at the checkpoint (`version`) that made it, under its nibble path (one nibble a
# byte; b"" the root, written at every checkpoint); `state_tree_stale` records each node a
# later checkpoint replaced (`stale_since`), which is what pruning old checkpoints reads.
state_tree_nodes = Table(
    "state_tree_nodes", metadata,
    Column("version", BigInteger, primary_key=True, autoincrement=False),
    Column("path", LargeBinary(64), primary_key=True),
    Column("node", LargeBinary, nullable=False),
)
state_tree_stale = Table(
    "state_tree_stale", metadata,
    Column("stale_since", BigInteger, primary_key=True, autoincrement=False),
    Column("version", BigInteger, primary_key=True, autoincrement=False),
    Column("path", LargeBinary(64), primary_key=True),
)

# Witnesses' cosignatures of checkpoints (anchoring/operator/cosignatures.py): the signature
# line each witness added to checkpoint `number`'s note, verified before it was stored; and the
# attestations (secp256k1, EIP-712) the witnesses gave for the registry at (chain_id,
# registry), which an AnchorRegistry deployed with witnesses requires with the anchor.
cosignatures = Table(
    "cosignatures", metadata,
    Column("number", BigInteger, primary_key=True, autoincrement=False),
    Column("witness", Text, primary_key=True),
    Column("key_id", LargeBinary(4), primary_key=True),
    Column("cosigned_at", BigInteger, nullable=False),  # the cosignature's timestamp, unix s
    Column("line", Text, nullable=False),
)
witness_attestations = Table(
    "witness_attestations", metadata,
    Column("number", BigInteger, primary_key=True, autoincrement=False),
    Column("attester", String(42), primary_key=True),
    Column("chain_id", BigInteger, primary_key=True, autoincrement=False),
    Column("registry", String(42), primary_key=True),
    Column("signature", LargeBinary(65), nullable=False),
)


# --- logins (api/access.py) -------------------------------------------------------------------
# Not a projection: neither the journal nor a replay knows of it. A login challenge is kept
# here once it is redeemed, until it expires, so that it is redeemed once across every worker
# process serving the ledger; `expires` is unix seconds.
login_challenges = Table(
    "login_challenges", metadata,
    Column("challenge", LargeBinary(32), primary_key=True),
    Column("expires", BigInteger, nullable=False),
    Index("ix_login_challenges_expires", "expires"),
)


def metadata_of(module_tables: Iterable[Table]) -> MetaData:
    """The schema of a store upgraded with the modules whose tables these are: the core's
    tables and theirs, copied onto one MetaData of its own, so that it holds exactly what was
    handed in (Alembic's env.py compares with it; so does tests/ledger/test_migrations.py)."""
    combined = MetaData()
    for table in metadata.tables.values():
        table.to_metadata(combined)
    for table in module_tables:
        if table.name in combined.tables:
            raise ValueError(f"a module's table {table.name!r} has the name of another table")
        table.to_metadata(combined)
    return combined
