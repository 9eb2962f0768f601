"""The served demo (`python -m examples`, what `make demo` runs), as a person runs it: a process
of its own that starts a server and a chain node, plays every role, exits 0 with the story
told and what was verified, and leaves nothing running; and, when a step fails, exits 1
saying which, still stopping what it started."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from anchoring.operator.local_node import running_local
from api.bootstrap import chain_dir
from examples.processes import DemoError
from examples.served_demo import run_demo
from ledger.clock import parse_time
from tests.isolation import REPO_ROOT

DEMO_TIMEOUT_S = 300


def _environment() -> dict[str, str]:
    return {name: value for name, value in os.environ.items()
            if not name.startswith("CARBONLEDGER_")}


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_the_demo_plays_every_role_and_says_what_was_verified(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    done = subprocess.run([sys.executable, "-m", "examples", str(data_dir)], cwd=REPO_ROOT,
                          env=_environment(), capture_output=True, text=True,
                          timeout=DEMO_TIMEOUT_S, stdin=subprocess.DEVNULL)
    story = done.stdout
    assert done.returncode == 0, story[-3000:] + done.stderr[-3000:]
    for told in (
            "$ carbonledger init --deployment demo",
            "$ carbonledger chain up --embedded",
            "$ carbonledger participant register huaneng",
            "register_participant accepted: journal entry 1",
            # the CCER project behind the wind farm's credits
            "$ carbonledger methodology publish CM-001-V01",
            "$ carbonledger project submit GANSU-WIND",
            "REFUSED, comment_period_open",
            "$ carbonledger monitoring verify GANSU-WIND P2024 --verifier sgs",
            "REFUSED, exceeds_verified",
            "ccer_issue accepted",
            "$ carbonledger key new --name icbc",
            "REFUSED, not_account_holder: the instruction is not signed by the account's "
            "holder",
            "--as huaneng --out",
            "$ carbonledger cosign",
            "You sign as",
            "serials 15001..45000 of HN01 are under ICBC's lien",
            "REFUSED, lot_under_lien",
            "REFUSED, before_maturity",
            "releases 10,000 t",
            "repo ICBC-R1",
            "retires his 10 t of CCER credits for an offsetting claim",
            "$ carbonledger retire --account BW-C",
            "$ carbonledger clock advance 91d",
            "the running server reads the moved clock without a restart",
            "$ carbonledger show holdings",
            "-> checkpoint 1 anchored: block",
            "-> checkpoint 2 anchored: block",
            "for the beneficiary Li Wei",
            "NOT VERIFIED: (log_proof_failed)",
            "$ carbonledger certificate R-LI-2025",
            "-> CERTIFICATE VERIFIED: its QR code names journal entry",
            # the compliance cycle
            "$ carbonledger emissions submit",
            "REFUSED, total_mismatch",
            "$ carbonledger verifier sign huaneng",
            "REFUSED, offset_cap_exceeded",
            "$ carbonledger disclose",
            "huaneng  CN-ETS  overdue",
            "overdue_compliance",
            # quota allocation
            "REFUSED, issued_by_another_operation",
            "$ carbonledger allocation plan set CN-ETS",
            "allocation_preallocate accepted",
            "HN-YY (huaneng): 1000000 × 0.8218 × 1.012 (load) × 70% = 582,163 t",
            "REFUSED, exceeds_bidder_limit",
            "3 sealed bid(s), 1 of them that this reader may see",
            "cleared at CNY 80.00, 100,000 t sold: B-HN-1 40,000 t, B-IC-1 30,000 t, "
            "B-BW-2 30,000 t",
            "YOUR BID: bid B-HN-1 by huaneng",
            "HN-YY (huaneng): 898,195 t for",
            "27,000 t of its CEA-",
            "demo passed"):
        assert told in story, told
    numbered = [line for line in story.splitlines() if line[:1].isdigit()]
    assert [int(line.split(".")[0]) for line in numbered] == list(range(1, len(numbered) + 1))
    # four bundles, a certificate's, a disclosure, a document, an auction's
    assert story.count("-> VERIFIED: ") == 8
    assert "-> ANCHORED: checkpoint 1 is held as signed" in story  # the consistency proof's
    verified = story[story.index("What was verified:"):].splitlines()[1:10]
    assert [line.strip().split(".")[0] for line in verified] == [str(n) for n in range(1, 10)]
    assert "Baowu's holding of HN01" in verified[0] and "pledge ICBC-P1" in verified[1]
    assert "for the beneficiary Li Wei" in verified[2]
    assert "checkpoint 2's log extends checkpoint 1's" in verified[3]
    assert "certificate R-LI-2025" in verified[5]
    assert "disclosure" in verified[6] and "January" in verified[7]
    assert "NOT that document" in verified[8]

    # the ledger's clock was moved past the project's comment period (29 days) and then past
    # the pledge's maturity: the enforcement's entry is dated 120 days after the server's
    # first answer
    started = parse_time(re.search(r"GET /v1/clock\) reads (\S+),", story)[1])  # type: ignore[index]
    enforced = parse_time(re.search(r"accepted at (\S+);", story)[1])  # type: ignore[index]
    assert timedelta(days=120) <= enforced - started < timedelta(days=120, minutes=10)
    # what the auditor was handed, and nothing left running
    for name in ("holding", "pledge", "retirement", "consistency", "R-LI-2025"):
        assert json.loads((data_dir / "auditor" / f"{name}.json").read_text())["anchor"]
    assert (data_dir / "auditor" / "R-LI-2025.pdf").read_bytes().startswith(b"%PDF")
    assert running_local(chain_dir(data_dir)) is None
    port = int(story.split("$ carbonledger serve --port ")[1].split()[0])
    assert not _listening(port)


def test_a_failed_step_is_named_and_what_was_started_is_stopped(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The story fails once the server answers (as a step would): the server and the chain
    node it started are stopped all the same."""
    for name in [n for n in os.environ if n.startswith("CARBONLEDGER_")]:
        monkeypatch.delenv(name)
    data_dir = tmp_path / "demo"
    told: list[str] = []

    def say(line: str) -> None:
        told.append(line)
        if "its clock (GET /v1/clock) reads" in line:
            raise DemoError("the registry could not be reached")

    with pytest.raises(DemoError, match=r"^setting up: the registry could not be reached"):
        run_demo(data_dir, say)
    port = int("\n".join(told).split("$ carbonledger serve --port ")[1].split()[0])
    assert not _listening(port)
    assert running_local(chain_dir(data_dir)) is None


def test_a_directory_that_is_not_a_demos_is_never_removed(tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    done = subprocess.run([sys.executable, "-m", "examples", str(precious)], cwd=REPO_ROOT,
                          env=_environment(), capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 1
    assert f"demo FAILED at setting up: {precious} exists and is not a previous demo's data " \
           "directory: name a new directory for the demo" in done.stderr
    assert "Traceback" not in done.stderr
    assert (precious / "notes.txt").read_text() == "keep me"
