"""The proof route's thread (api/http/proof_thread.py): every request gets its own answer or
its own exception, from one thread that is not the event loop's, batches or not; and over
real HTTP (uvicorn), many clients asking at once each get the bundle they asked for."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from anchoring.auditor.verify import verify_bundle
from api.http.proof_thread import ProofThread
from tests.api.http.conftest import Served, login_over, market
from tests.api.uvicorn_thread import served_in_thread


@pytest.mark.parametrize("threads", [1, 3])
def test_each_request_gets_its_own_answer_off_the_loop(threads: int) -> None:
    proofs = ProofThread(threads=threads)
    ran_on: set[str] = set()

    def work(n: int) -> int:
        ran_on.add(threading.current_thread().name)
        time.sleep(0.0005 if n % 7 == 0 else 0)  # jobs pile up behind it: batches form
        return n * n

    async def ask() -> list[int]:
        return list(await asyncio.gather(*(proofs.run(work, n) for n in range(300))))

    assert asyncio.run(ask()) == [n * n for n in range(300)]
    assert ran_on and ran_on <= {"proofs", "proofs-1", "proofs-2"}  # never the loop's


def test_an_exception_reaches_its_own_request_and_the_thread_goes_on() -> None:
    proofs = ProofThread()

    def work(n: int) -> int:
        if n == 3:
            raise LookupError("no such lot")
        if n == 4:
            raise StopIteration  # a future refuses it as such: it must still reach n == 4
        return n

    async def ask() -> list[Any]:
        return list(await asyncio.gather(*(proofs.run(work, n) for n in range(8)),
                                         return_exceptions=True))

    answers = asyncio.run(ask())
    assert answers[:3] == [0, 1, 2] and answers[5:] == [5, 6, 7]
    assert isinstance(answers[3], LookupError) and str(answers[3]) == "no such lot"
    assert isinstance(answers[4], RuntimeError) and "StopIteration" in str(answers[4])


def test_a_request_that_went_away_leaves_the_others_answered() -> None:
    proofs = ProofThread()
    release = threading.Event()

    def slow() -> str:
        release.wait(5)
        return "slow"

    async def ask() -> tuple[bool, list[int]]:
        gone = asyncio.ensure_future(proofs.run(slow))
        others = [asyncio.ensure_future(proofs.run(lambda n=n: n)) for n in range(5)]
        await asyncio.sleep(0.01)
        gone.cancel()
        release.set()
        answered = list(await asyncio.gather(*others))
        with contextlib.suppress(asyncio.CancelledError):
            await gone
        return gone.cancelled(), answered

    assert asyncio.run(ask()) == (True, [0, 1, 2, 3, 4])


def test_the_thread_ends_once_its_owner_is_gone() -> None:
    proofs = ProofThread(name="proofs-ending", threads=2)

    async def ask(owner: ProofThread) -> int:
        return int(await owner.run(lambda: 1))

    assert asyncio.run(ask(proofs)) == 1
    threads = proofs._threads
    assert len(threads) == 2 and all(thread.is_alive() for thread in threads)
    del proofs
    gc.collect()
    for thread in threads:
        thread.join(timeout=5)
        assert not thread.is_alive()


@pytest.mark.parametrize("clients", [16])
def test_many_clients_at_once_each_get_the_lot_they_asked_for(reader: Served,
                                                              clients: int) -> None:
    served = market(reader)
    for quantity in range(1, 13):  # 12 lots carved off HN's, each moved to ICBC
        served.accepted("huaneng", "transfer", fromAccount="HN", toAccount="ICBC",
                        batch="A1", quantity=quantity)
    service = served.app.service
    service.cut_checkpoint()
    lots = [lot.id for lot in service.lots()]
    assert len(lots) == 13
    operator = service.operator
    assert operator is not None
    kinds = tuple(service.operations.bundle_kinds.values())
    asked = lots * 8

    with served_in_thread(served.app.service) as url:
        with httpx.Client(base_url=url) as client:
            token = login_over(client, served.wallets["MEE"], "MEE")

        def fetch(lot: str) -> tuple[str, int, dict[str, Any]]:
            with httpx.Client(base_url=url, timeout=30) as own:
                answer = own.get("/v1/proofs/lot", params={"subject": lot},
                                 headers={"Authorization": f"Bearer {token}"})
            return lot, answer.status_code, answer.json()

        with ThreadPoolExecutor(clients) as pool:
            answers = list(pool.map(fetch, asked))
        with httpx.Client(base_url=url) as client:
            refused = client.get("/v1/proofs/lot", params={"subject": lots[0]},
                                 headers={"Authorization": "Bearer not-a-token"})

    for lot, status, bundle in answers:
        assert status == 200, bundle
        assert bundle["lot"] == lot
        assert lot in verify_bundle(bundle, operator, kinds).statement
    assert refused.status_code == 401  # the token is checked on the proofs' thread too
