"""The JSON Schemas of docs/schemas/ (draft 2020-12) describe the bundles the ledger makes:
every valid golden and conformance bundle passes its kind's schema, with its records, entries
and notes, and the schemas refuse the defects a schema can express.

JSON Schema cannot express everything the verifier checks (a duplicate key, 1.0 written for 1,
a real calendar date, first <= last, a proof that holds): docs/schemas/README.md lists what
only the verifier checks, and those cases are not asked of the schemas here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from anchoring.auditor.bundle_format import ENTRY_FORMATS
from anchoring.auditor.records import FIELDS as RECORD_KINDS
from anchoring.auditor.verify import STANDARD_KINDS
from tests.conformance.cases import CASES, GOLDEN_VALID, VERIFIED
from tests.conformance.forge import golden

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"
_DOCUMENTS = {path.name: json.loads(path.read_text(encoding="utf-8"))
              for path in SCHEMAS.glob("*.schema.json")}
_REGISTRY: Registry = Registry().with_resources(
    (schema["$id"], Resource.from_contents(schema)) for schema in _DOCUMENTS.values())


def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(_DOCUMENTS[f"{name}.schema.json"], registry=_REGISTRY)


def _embedded(bundle: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """(schema, value) of what a bundle holds as text: notes, entries, records. A validator
    only annotates contentSchema, so each is parsed and validated on its own here."""
    for field in ("checkpoint", "from_checkpoint"):
        if field in bundle:
            yield "checkpoint-note", bundle[field]
    items = bundle.get("entries", [bundle] if "entry" in bundle else [])
    if isinstance(items, dict):  # a retirement's or a provenance's links, by name
        items = list(items.values())
    if bundle.get("kind") == "emissions":  # its entry is an item, as in a pledge pack
        items = [bundle["entry"]]
    for item in items:
        yield "journal-entry", json.loads(item["entry"])
    states: dict[str, list[dict[str, Any]]] = {kind: [] for kind in RECORD_KINDS}
    if bundle.get("kind") in states:
        states[bundle["kind"]].append(bundle["state"])
    if bundle.get("kind") == "pledge":
        states["account"].append(bundle["pledgor_account"]["state"])
        states["lot"].extend(lot["state"] for lot in bundle["lots"])
    if bundle.get("kind") == "retirement":
        states["lot"].extend(lot["state"] for lot in bundle["lots"])
    if bundle.get("kind") == "provenance":
        states["lot"].append(bundle["lot"]["state"])
    if bundle.get("kind") == "disclosure":
        states["obligation"].extend(item["state"] for item in bundle["obligations"])
    for kind, found in states.items():
        for state in found:
            if state["value"] is not None:
                yield f"record-{kind}", json.loads(state["value"])


def schema_errors(bundle: Any) -> list[str]:
    kind = bundle.get("kind") if isinstance(bundle, dict) else None
    name = f"bundle-{kind}" if f"bundle-{kind}.schema.json" in _DOCUMENTS else "bundle-lot"
    errors = [f"{name}: {e.message}" for e in validator(name).iter_errors(bundle)]
    if not errors:
        for schema, value in _embedded(bundle):
            errors += [f"{schema}: {e.message}" for e in validator(schema).iter_errors(value)]
    return errors


def test_every_schema_is_valid_draft_2020_12_and_every_kind_has_one() -> None:
    for schema in _DOCUMENTS.values():
        Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    kinds = {kind.name for kind in STANDARD_KINDS}
    assert {f"bundle-{k}.schema.json" for k in kinds} | {f"record-{r}.schema.json"
                                                           for r in RECORD_KINDS} \
        | {"checkpoint-note.schema.json"} <= set(_DOCUMENTS)


def test_each_record_schema_has_the_fields_the_verifier_requires() -> None:
    for kind, fields in RECORD_KINDS.items():
        schema = _DOCUMENTS[f"record-{kind}.schema.json"]
        assert schema["additionalProperties"] is False
        assert set(schema["required"]) == set(schema["properties"]) == set(fields), kind


def test_the_entry_schema_knows_the_formats_the_verifier_reads() -> None:
    operation = _DOCUMENTS["journal-entry.schema.json"]["oneOf"][1]
    assert operation["properties"]["format"]["enum"] == sorted(ENTRY_FORMATS)


VALID = [*GOLDEN_VALID, *(case.name for case in CASES if case.expect == VERIFIED)]


@pytest.mark.parametrize("name", VALID)
def test_every_valid_bundle_passes_its_schema(name: str) -> None:
    case = next((case for case in CASES if case.name == name), None)
    bundle = json.loads(case.make()) if case else golden(name)[0]
    assert schema_errors(bundle) == []


# Defects a schema can express; the others (duplicate keys, 1.0, 2024-02-30, a broken proof,
# a log without its marker, another ledger's genesis) only a verifier catches.
REFUSED_BY_SCHEMA = [
    "bundle-lot@version-true", "bundle-lot@version-string", "bundle-lot@kind-number",
    "bundle-lot@lot-number", "bundle-lot@anchor-block-string", "bundle-lot@integer-beyond-2^53",
    "bundle-lot@state-bogus", "bundle-lot@lien-missing", "bundle-lot@first-string",
    "bundle-lot@tradable-under-lien", "bundle-lot@record-field-added",
    "bundle-account@frozen-no", "bundle-account@type-bogus", "bundle-holding@bucket-negative",
    "bundle-holding@all-buckets-zero", "bundle-lot@origin-malformed",
    "bundle-lot@origin-hash-uppercase", "bundle-entry@format-true", "bundle-entry@seq-string",
    "bundle-entry@instruction-op-missing", "bundle-entry@accepted-at-without-milliseconds",
    "bundle-emissions@submission-number", "bundle-emissions@entry-inclusion-missing",
    "bundle-emissions@late-no", "bundle-emissions@calibration-lapsed-missing",
    "bundle-emissions@record-field-added", "bundle-emissions@month-13",
    "bundle-emissions@document-hash-uppercase", "bundle-emissions@absent",
    "bundle-obligation@year-string", "bundle-obligation@emitter-missing",
    "bundle-obligation@flagged-string", "bundle-obligation@credits-negative",
    "bundle-obligation@scheme-missing", "bundle-obligation@year-before-1990",
    "bundle-disclosure@year-string", "bundle-disclosure@credits-string",
    "bundle-disclosure@row-field-added", "bundle-disclosure@row-without-obligation",
]


@pytest.mark.parametrize("name", REFUSED_BY_SCHEMA)
def test_the_schemas_refuse_what_they_can_express(name: str) -> None:
    case = next(case for case in CASES if case.name == name)
    assert schema_errors(json.loads(case.make())), f"{name} passes the schemas"


def test_an_unknown_field_and_a_missing_one_are_refused() -> None:
    bundle, _ = golden("bundle-pledge")
    assert schema_errors({**bundle, "comment": "trust me"})
    del bundle["lots"]
    assert schema_errors(bundle)
