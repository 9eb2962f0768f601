"""Write the conformance suite, by hand, from the repository's root:

    .venv/bin/python -m tests.conformance.generate

It writes bundles/<case>.json for every case of tests/conformance/cases.py and manifest.json,
which lists every case of the suite with the outcome a verifier must reach: those files, and
the golden bundles and golden mutations of tests/vectors/formats/ that it reuses in place.
Before writing, it checks each case with this repository's verifier.

Deterministic: the cases are made from the golden vectors, and what is signed again is signed
with the golden operator key (secp256k1 signing is deterministic, RFC 6979). Running it twice
writes the same bytes; tests/conformance/test_conformance.py checks that the files are what
it would write now.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from anchoring.auditor.errors import VerificationFailed, VerifyFailure
from anchoring.auditor.verify import read_bundle, verify_bundle
from tests.conformance.cases import CASES, GOLDEN_MUTATIONS, GOLDEN_VALID, VERIFIED
from tests.conformance.forge import GOLDEN, golden

HERE = Path(__file__).resolve().parent
MANIFEST = "manifest.json"
BUNDLES = "bundles"


def files() -> dict[str, str]:
    """Every file the suite holds, by path relative to this folder, with its text."""
    operator = golden("bundle-lot")[1]
    written: dict[str, str] = {}
    cases: list[dict[str, Any]] = []
    for name in GOLDEN_VALID:
        cases.append({"name": name, "file": f"../vectors/formats/{name}.json",
                      "pointer": "/bundle", "expect": VERIFIED,
                      "description": _golden_description(name)})
    for case in CASES:
        path = f"{BUNDLES}/{case.name}.json"
        written[path] = case.make()
        cases.append({"name": case.name, "file": path, "expect": case.expect,
                      "description": case.description})
    for name, code in GOLDEN_MUTATIONS.items():
        cases.append({"name": name, "file": f"../vectors/formats/{name}.json",
                      "pointer": "/bundle", "expect": code,
                      "description": _golden_description(name)})
    manifest = {
        "description": "carbonledger proof bundle conformance suite (docs/proof-format.md): "
                       "each case is a bundle file and the outcome a verifier must reach "
                       "when it trusts trusted_operator",
        "format": "carbonledger/proof-bundle",
        "version": 1,
        "trusted_operator": operator,
        "codes": [code.name for code in VerifyFailure],
        "cases": cases,
    }
    written[MANIFEST] = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    return written


def _golden_description(name: str) -> str:
    vector = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
    return str(vector["description"])


def outcome(text: str, pointer: str | None, operator: str) -> str:
    """What this repository's verifier says of one case's file: "verified" or a code's name.
    `pointer`: where in the file the bundle is (a JSON Pointer), None for the whole file."""
    try:
        document = read_bundle(text)
        for part in (pointer or "").strip("/").split("/"):
            document = document[part] if part else document
        verify_bundle(document, operator)
    except VerificationFailed as failure:
        return failure.code.name
    return VERIFIED


def write(folder: Path) -> None:
    """Check every case with this verifier, then write the suite to `folder`."""
    made = files()
    manifest = json.loads(made[MANIFEST])
    wrong = []
    for case in manifest["cases"]:
        text = made.get(case["file"]) or (HERE / case["file"]).read_text(encoding="utf-8")
        got = outcome(text, case.get("pointer"), manifest["trusted_operator"])
        if got != case["expect"]:
            wrong.append(f"{case['name']}: {got}, want {case['expect']}")
    assert not wrong, "\n".join(wrong)
    (folder / BUNDLES).mkdir(parents=True, exist_ok=True)
    for old in (folder / BUNDLES).glob("*.json"):
        old.unlink()
    for path, text in made.items():
        (folder / path).write_text(text, encoding="utf-8")
    print(f"wrote {len(made) - 1} bundles and a manifest of {len(manifest['cases'])} cases "
          f"to {folder}")


if __name__ == "__main__":
    write(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
