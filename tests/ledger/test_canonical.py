"""The journal's canonical JSON is RFC 8785: checked against the reference implementation."""

from __future__ import annotations

from typing import TypeAlias

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.canonical import NotCanonicalizable, canonical_json, leaf_hash

Json: TypeAlias = bool | int | str | list["Json"] | dict[str, "Json"] | None

scalars = (st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1)
           | st.text(alphabet=st.characters(exclude_categories=["Cs"])))
ascii_keys = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=127), max_size=8)
documents = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                         | st.dictionaries(ascii_keys, inner, max_size=4), max_leaves=20)


@settings(max_examples=500)
@given(documents)
def test_matches_rfc8785(document: Json) -> None:
    assert canonical_json(document) == rfc8785.dumps(document)


@pytest.mark.parametrize("value", [1.5, 2**53, {"ключ": 1}, {1: 2}, "\ud800"])
def test_values_outside_the_subset_are_refused(value: object) -> None:
    with pytest.raises(NotCanonicalizable):
        canonical_json(value)


def test_leaf_hash_is_rfc9162() -> None:
    # SHA-256(0x00) for the empty entry, as in RFC 9162 / RFC 6962 test vectors
    assert leaf_hash(b"").hex() == (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
