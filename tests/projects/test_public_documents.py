"""Public documents of the project cycle (projects/public_documents.py): a design document
is kept as it is, named by the SHA-256 of its bytes; the same bytes stored again change
nothing; a document over 20 MB, an empty one or one without a media type is refused by name
and nothing is kept; a fetched document is checked against its name; on both databases."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import text

from ledger.clock import format_time
from ledger.store.database import Store
from projects.public_documents import (
    MAX_PUBLIC_DOCUMENT_BYTES,
    PublicDocumentError,
    PublicDocumentFailure,
    fetch,
    store,
    store_described,
)
from tests.projects.helpers import OWNER
from tests.world import World

PDD = b"%PDF-1.7\nProject design document: Gansu Jiuquan wind farm, phase II\n%%EOF\n"
PDD_SHA256 = "0x" + hashlib.sha256(PDD).hexdigest()


def _count(kept: Store) -> int:
    with kept.engine.connect() as connection:
        return int(connection.execute(text("SELECT COUNT(*) FROM public_documents")).scalar_one())


def _refused(code: PublicDocumentFailure, world: World, data: bytes,
             media_type: str = "application/pdf") -> PublicDocumentError:
    before = _count(world.store)
    with pytest.raises(PublicDocumentError) as refused:
        store(world.store, OWNER, data, media_type, world.clock())
    assert refused.value.code is code
    assert _count(world.store) == before  # nothing kept
    return refused.value


def test_a_document_is_kept_as_it_is_under_the_hash_of_its_bytes(any_market: World) -> None:
    world = any_market
    now = world.clock()
    assert store(world.store, OWNER, PDD, "application/pdf", now) == PDD_SHA256
    found = fetch(world.store, PDD_SHA256)
    assert found.content == PDD
    assert found.described._asdict() == {
        "sha256": PDD_SHA256, "media_type": "application/pdf", "size": len(PDD),
        "stored_by": OWNER, "stored_at": format_time(now)}


def test_the_same_bytes_stored_again_change_nothing(any_market: World) -> None:
    world = any_market
    first, new = store_described(world.store, OWNER, PDD, "application/pdf", world.clock())
    assert new
    world.clock.moment += timedelta(days=3)
    again, new = store_described(world.store, "cec", PDD, "text/plain", world.clock())
    assert not new and again == first  # who stored it first, when, and its type stay
    assert _count(world.store) == 1
    assert fetch(world.store, PDD_SHA256).described == first
    other = PDD + b"\n"
    assert store(world.store, OWNER, other, "application/pdf", world.clock()) \
        == "0x" + hashlib.sha256(other).hexdigest() != PDD_SHA256
    assert _count(world.store) == 2


def test_a_document_of_20_mb_is_kept_one_byte_more_is_refused(market: World) -> None:
    world = market
    largest = bytes(range(256)) * (MAX_PUBLIC_DOCUMENT_BYTES // 256)
    assert len(largest) == MAX_PUBLIC_DOCUMENT_BYTES == 20 * 1024 * 1024
    refused = _refused(PublicDocumentFailure.public_document_too_large, world, largest + b"x")
    assert f"{MAX_PUBLIC_DOCUMENT_BYTES + 1} bytes" in str(refused)
    sha256 = store(world.store, OWNER, largest, "application/pdf", world.clock())
    assert fetch(world.store, sha256).content == largest


def test_an_empty_document_or_a_bad_media_type_is_refused(market: World) -> None:
    _refused(PublicDocumentFailure.empty_public_document, market, b"")
    for media_type in ("", "pdf", "application/pdf\r\nx-evil: 1", "a/" + "b" * 100):
        _refused(PublicDocumentFailure.bad_media_type, market, PDD, media_type)
    assert store(market.store, OWNER, PDD, "text/plain; charset=utf-8", market.clock()) \
        == PDD_SHA256


def test_an_unknown_document_is_refused_by_name(any_market: World) -> None:
    with pytest.raises(PublicDocumentError) as refused:
        fetch(any_market.store, PDD_SHA256)
    assert refused.value.code is PublicDocumentFailure.unknown_public_document
    assert refused.value.code.status == 404 and PDD_SHA256 in str(refused.value)


def test_fetch_checks_the_bytes_against_their_name(market: World) -> None:
    world = market
    store(world.store, OWNER, PDD, "application/pdf", world.clock())
    with world.store.engine.begin() as connection:  # an insider edits the kept bytes
        connection.execute(text("UPDATE public_documents SET content = :forged"),
                           {"forged": PDD.replace(b"phase II", b"phase IX")})
    with pytest.raises(PublicDocumentError) as refused:
        fetch(world.store, PDD_SHA256)
    assert refused.value.code is PublicDocumentFailure.hash_mismatch
