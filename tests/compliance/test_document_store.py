"""Published document keys (document_key_publish) and sealed documents kept beside the journal
(compliance/documents.py, compliance/document_store.py): who can read what is stored, that
storing again changes nothing, that replay neither needs nor compares these rows, and that
no plaintext reaches the database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import coincurve
import pytest

from compliance import documents
from compliance.documents import DocumentError, DocumentFailure
from compliance.reasons import ComplianceReason
from compliance.sealing import Sealed, open_sealed, seal, wrap_for
from ledger.client import Wallet
from ledger.errors import Reason
from ledger.replay import replay_check
from tests.compliance.helpers import row
from tests.world import OPERATIONS, World, fresh_wallet

FIGURES = b'{"installation":"HN-1","month":"2025-01","lines":"Q7-DISTINCTIVE-48213.9917"}'
DISTINCTIVE = b"Q7-DISTINCTIVE-48213.9917"


def public_key(wallet: Wallet) -> bytes:
    return coincurve.PrivateKey(wallet.private_key).public_key.format(compressed=True)


def publish(world: World, who: str) -> None:
    world.by(who, "document_key_publish", participant=who,
             publicKey="0x" + public_key(world.wallets[who]).hex())


@pytest.fixture
def published(any_market: World) -> World:
    """Every participant of the market has published its key (on both databases)."""
    for who in ("registry", "huaneng", "baowu", "cec"):
        publish(any_market, who)
    return any_market


def sealed_by_huaneng(world: World, data: bytes = FIGURES) -> Sealed:
    return seal(data, [public_key(world.wallets[w]) for w in ("huaneng", "registry")])


def stored(world: World, data: bytes = FIGURES) -> Sealed:
    sealed = sealed_by_huaneng(world, data)
    documents.store_sealed(world.store, "huaneng", sealed, "application/json", world.clock())
    return sealed


def read_as(world: World, who: str, sha256: str) -> bytes:
    _, sealed = documents.sealed_for(world.store, sha256, who)
    return open_sealed(sealed, world.wallets[who].private_key)


@contextmanager
def denied(code: DocumentFailure) -> Iterator[None]:
    with pytest.raises(DocumentError) as caught:
        yield
    assert caught.value.code is code, caught.value


# --- document_key_publish ---------------------------------------------------------------------

def test_a_participant_publishes_the_public_key_of_its_signing_key(market: World) -> None:
    publish(market, "huaneng")
    wallet = market.wallets["huaneng"]
    assert row(market, "document_keys", "huaneng", wallet.address) == {
        "participant": "huaneng", "address": wallet.address,
        "public_key": "0x" + public_key(wallet).hex(), "published_seq": market.head()}
    assert [k.address for k in documents.document_keys(market.store, "huaneng")] == \
        [wallet.address]
    market.refused(ComplianceReason.public_key_published, "huaneng", "document_key_publish",
                   participant="huaneng", publicKey="0x" + public_key(wallet).hex())


def test_a_key_that_is_not_the_participants_active_key_is_refused(market: World) -> None:
    stranger = fresh_wallet()
    market.refused(ComplianceReason.public_key_not_registered, "huaneng",
                   "document_key_publish", participant="huaneng",
                   publicKey="0x" + public_key(stranger).hex())
    # another participant's registered key is not huaneng's either
    market.refused(ComplianceReason.public_key_not_registered, "huaneng",
                   "document_key_publish", participant="huaneng",
                   publicKey="0x" + public_key(market.wallets["baowu"]).hex())
    # a revoked key is no longer active: cec, signing with its second key, cannot publish it
    market.wallets["cec-2"] = second = fresh_wallet()
    market.by("registry", "register_key", participant="cec", key=second.address)
    market.by("registry", "revoke_key", participant="cec", key=market.wallets["cec"].address)
    market.refused(ComplianceReason.public_key_not_registered, "cec-2", "document_key_publish",
                   participant="cec", publicKey="0x" + public_key(market.wallets["cec"]).hex())
    market.by("cec-2", "document_key_publish", participant="cec",
              publicKey="0x" + public_key(second).hex())


def test_only_the_participant_publishes_its_key(market: World) -> None:
    market.refused(Reason.missing_signature, "registry", "document_key_publish",
                   participant="huaneng",
                   publicKey="0x" + public_key(market.wallets["huaneng"]).hex())


def test_a_public_key_off_the_curve_is_no_ones(market: World) -> None:
    market.refused(ComplianceReason.public_key_not_registered, "huaneng",
                   "document_key_publish", participant="huaneng",
                   publicKey="0x02" + "ff" * 32)


# --- sealed documents -------------------------------------------------------------------------

def test_the_owner_and_the_registry_read_it_and_no_one_else(published: World) -> None:
    sealed = stored(published)
    assert read_as(published, "huaneng", sealed.sha256) == FIGURES
    assert read_as(published, "registry", sealed.sha256) == FIGURES
    assert documents.readers(published.store, sealed.sha256) == ["huaneng", "registry"]
    for outsider in ("baowu", "cec"):
        with denied(DocumentFailure.not_a_reader):
            documents.sealed_for(published.store, sealed.sha256, outsider)
    with denied(DocumentFailure.unknown_document):
        documents.sealed_for(published.store, "0x" + "00" * 32, "huaneng")


def test_a_reader_gets_its_own_wrapped_keys_only(published: World) -> None:
    sealed = stored(published)
    _, handed = documents.sealed_for(published.store, sealed.sha256, "huaneng")
    assert [k.address for k in handed.readers] == [published.wallets["huaneng"].address]


def test_the_verifier_reads_it_once_shared(published: World) -> None:
    sealed = stored(published)
    _, mine = documents.sealed_for(published.store, sealed.sha256, "huaneng")
    for_cec = wrap_for(mine, published.wallets["huaneng"].private_key,
                       public_key(published.wallets["cec"]))
    assert documents.share(published.store, sealed.sha256, "huaneng", "cec", [for_cec]) == 1
    assert read_as(published, "cec", sealed.sha256) == FIGURES
    # again: nothing new
    assert documents.share(published.store, sealed.sha256, "huaneng", "cec", [for_cec]) == 0
    # the registry may share too; another emitter may not
    _, registry = documents.sealed_for(published.store, sealed.sha256, "registry")
    for_baowu = wrap_for(registry, published.wallets["registry"].private_key,
                         public_key(published.wallets["baowu"]))
    with denied(DocumentFailure.may_not_share):
        documents.share(published.store, sealed.sha256, "baowu", "baowu", [for_baowu])
    # a key named for one reader that is another's is refused
    with denied(DocumentFailure.key_not_published):
        documents.share(published.store, sealed.sha256, "registry", "cec", [for_baowu])
    assert documents.share(published.store, sealed.sha256, "registry", "baowu",
                           [for_baowu]) == 1
    assert read_as(published, "baowu", sealed.sha256) == FIGURES


def test_a_key_that_was_never_published_is_refused(published: World) -> None:
    stranger = fresh_wallet()
    sealed = seal(FIGURES, [public_key(published.wallets["huaneng"]), public_key(stranger)])
    with denied(DocumentFailure.key_not_published):
        documents.store_sealed(published.store, "huaneng", sealed, "application/json",
                               published.clock())
    with published.store.read() as tx:
        assert tx.one("SELECT COUNT(*) FROM documents")[0] == 0


def test_storing_it_again_changes_nothing(published: World) -> None:
    sealed = stored(published)
    again = sealed_by_huaneng(published)  # another sealing of the same bytes
    kept, new = documents.store_sealed(published.store, "huaneng", again, "text/csv",
                                       published.clock())
    assert not new and kept.media_type == "application/json"
    assert read_as(published, "huaneng", sealed.sha256) == FIGURES  # the first key still
    with denied(DocumentFailure.owned_by_another):
        documents.store_sealed(published.store, "baowu", again, "application/json",
                               published.clock())


def test_no_plaintext_reaches_the_database(published: World) -> None:
    if published.store.dialect != "sqlite":
        pytest.skip("the database file's bytes are read on SQLite")
    sealed = stored(published)
    published.store.dispose()  # every page written back to the file
    database = published.store.engine.url.database
    assert database is not None
    files = [p for p in Path(database).parent.iterdir() if p.name.startswith("ledger.db")]
    contents = b"".join(p.read_bytes() for p in files)
    assert bytes.fromhex(sealed.sha256[2:]).hex().encode() in contents  # the row is there
    assert DISTINCTIVE not in contents
    assert read_as(published, "registry", sealed.sha256) == FIGURES


def test_replay_neither_needs_nor_compares_the_documents(published: World) -> None:
    stored(published)
    report = replay_check(published.store, OPERATIONS)
    assert report.ok, report.first_difference
    assert "documents" not in OPERATIONS.tables and "documents" in OPERATIONS.side_tables
