"""A pledge's and a repo's whole history, read back from the store."""

from __future__ import annotations

from datetime import UTC, datetime

from pledge.queries import pledge_history, repo_history
from tests.pledge.helpers import PLEDGORS, REPO_PARTIES, by, open_repo, register
from tests.world import World


def test_a_pledges_history_lists_every_entry_that_acted_on_it(market: World) -> None:
    registered = register(market)
    open_repo(market, quantity=100)  # another agreement: not in P1's history
    amended = by(market, PLEDGORS, "pledge_amend", pledge="P1", loanReference="ICBC-2",
                 principal=1_000_00, currency="CNY", maturityDate="2027-03-31")
    released = by(market, ("icbc",), "pledge_release", pledge="P1", quantity=100)
    market.clock.moment = datetime(2027, 4, 1, tzinfo=UTC)
    enforced = by(market, ("icbc",), "pledge_enforce", pledge="P1", quantity=50,
                  toAccount="ICBC")

    history = pledge_history(market.store, "P1")
    assert history is not None
    assert [(e.seq, e.op, e.quantity) for e in history.entries] == [
        (registered.seq, "pledge_register", 400), (amended.seq, "pledge_amend", 0),
        (released.seq, "pledge_release", 100), (enforced.seq, "pledge_enforce", 50)]
    first, *_, last = history.entries
    wallets = market.wallets
    assert first.signers == (wallets["huaneng"].address, wallets["icbc"].address)
    assert first.fields["loanReference"] == "ICBC-SZ-2026-0042"
    assert first.entry_hash == registered.entry_hash
    assert last.accepted_at == "2027-04-01T00:00:00.000Z"
    assert last.effects == enforced.effects
    assert (history.pledge.loan_reference, history.pledge.outstanding) == ("ICBC-2", 250)
    assert [(lot.first, lot.last) for lot in history.lots] == [(151, 400)]
    assert pledge_history(market.store, "P9") is None


def test_a_repos_history(market: World) -> None:
    opened = open_repo(market, repo="R7", batch="A1", quantity=300)
    closed = by(market, REPO_PARTIES, "repo_close", repo="R7", quantity=300)
    history = repo_history(market.store, "R7")
    assert history is not None
    assert [(e.seq, e.op, e.quantity) for e in history.entries] == [
        (opened.seq, "repo_open", 300), (closed.seq, "repo_close", 300)]
    assert history.repo.status == "closed" and history.lots == ()
    assert repo_history(market.store, "P1") is None
