"""The ledger's states fold records in any order, and merge across parts, to what the whole says.

Each state is checked against a plain reading of its rule over the full, time-sorted list: the
streak of failures since the latest success, the record that closed a chain, the latest
acknowledgement, the plan whose decisions count, the oldest cited records.
"""

from __future__ import annotations

import random

import pytest
from evidence import generated

from reportgen.evidence import ledger, workers
from reportgen.evidence.chains import MAX_CITED, AckPair, Chain, Cite, Oldest, Plan
from reportgen.evidence.inputs import Limits
from reportgen.evidence.lean import RetryDecision
from reportgen.evidence.load import load
from reportgen.judge.summary import summarise

SEEDS = range(40)
# A record size limit under the file's size: the file is not parsed whole, and two jobs split it.
SPLIT = Limits(max_record_bytes=64 * 1024)


def cite(at: int, n: int) -> Cite:
    """A citation at a time (several share a time, to test ties)."""
    return (at, f"sid-{n:04d}", "kind", "file", n)


def outcomes(rng: random.Random) -> list[tuple[Cite, bool, bool]]:
    """Random outcomes of one chain key: (citation, success, is an execution)."""
    return [(cite(rng.randrange(8), n), rng.random() < 0.5, rng.random() < 0.3) for n in range(rng.randrange(1, 12))]


def expected(found: list[tuple[Cite, bool, bool]]) -> tuple[bool, list[Cite], Cite | None, int]:
    """The rule read plainly: sort by (time, failure after success, id), then walk."""
    ordered = sorted(found, key=lambda o: (o[0][0], not o[1], o[0][1]))
    streak: list[Cite] = []
    for c, success, _ in ordered:
        streak = [] if success else [*streak, c]
    resolved = ordered[-1][1]
    closer = None
    if resolved and any(not s for _, s, _ in ordered):
        last_failure = max(i for i, (_, s, _) in enumerate(ordered) if not s)
        closers = [o for o in ordered[last_failure + 1 :]]
        executions = [o for o in closers if o[2]]
        closer = (executions or closers)[0][0]
    return resolved, streak, closer, sum(not s for _, s, _ in ordered)


def folded(found: list[tuple[Cite, bool, bool]]) -> Chain:
    """A chain folded from outcomes in the order given."""
    chain = Chain()
    for c, success, execution in found:
        chain.add(c, success, execution)
    return chain


def state(chain: Chain) -> tuple[bool, list[Cite], Cite | None, int]:
    """What the rules read of a chain."""
    closer = chain.closer() if chain.resolved and chain.failures else None
    return chain.resolved, chain.open_streak() if not chain.resolved else [], closer, chain.failures


@pytest.mark.parametrize("seed", SEEDS)
def test_a_chain_folded_in_any_order_or_in_parts_judges_as_the_sorted_outcomes_do(seed):
    rng = random.Random(seed)
    found = outcomes(rng)
    resolved, streak, closer, failures = expected(found)
    want = (resolved, streak if not resolved else [], closer, failures)
    shuffled = found[:]
    rng.shuffle(shuffled)
    assert state(folded(found)) == state(folded(shuffled)) == want
    cut = rng.randrange(len(shuffled) + 1)
    merged = folded(shuffled[:cut])
    merged.merge(folded(shuffled[cut:]))
    assert state(merged) == want


def test_a_failure_and_a_success_at_the_same_instant_leave_the_chain_open():
    chain = folded([(cite(5, 1), True, False), (cite(5, 2), False, False)])
    assert not chain.resolved and chain.open_streak() == [cite(5, 2)]


@pytest.mark.parametrize("seed", SEEDS)
def test_an_acknowledgement_pair_is_cleared_once_cleared_and_otherwise_shows_its_latest_state(seed):
    rng = random.Random(seed)
    acks = [(cite(rng.randrange(20), n), rng.choice(["dismissed", "escalated", "acknowledged"])) for n in range(6)]
    pair, parts = AckPair(), (AckPair(), AckPair())
    for n, (c, ack_state) in enumerate(acks):
        pair.add(c, ack_state)
        parts[n % 2].add(c, ack_state)
    parts[0].merge(parts[1])
    cleared = any(s == "acknowledged" for _, s in acks)
    # Upstream's latest: the newest, and of acks made at one instant the one with the smaller id.
    latest = None if cleared else sorted(sorted(acks, key=lambda a: a[0][1], reverse=True), key=lambda a: a[0][0])[-1]
    for result in (pair, parts[0]):
        assert result.cleared == cleared
        assert result.latest == latest
        assert (result.acks is None) == cleared


def decisions(action: str) -> list[RetryDecision]:
    """One decision with this action."""
    return [RetryDecision(provider="slack", action=action)]  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", SEEDS)
def test_a_retry_plans_own_latest_record_wins_else_its_first_embedded_copy(seed):
    rng = random.Random(seed)
    carriers = [(cite(t, t), rng.random() < 0.4, rng.choice(["retry", "wait", "suppress"])) for t in range(1, 7)]
    own = [c for c in carriers if c[1]]
    want = max(own) if own else min(carriers)
    rng.shuffle(carriers)
    plan = Plan.start("executive", carriers[0][0], decisions(carriers[0][2]), carriers[0][1])
    for c, is_own, action in carriers[1:]:
        plan.add("executive", c, decisions(action), is_own)
    assert plan.decisions[0].action == want[2]
    assert plan.at == want[0][0]
    assert sorted(plan.records) == sorted(c for c, _, _ in carriers)


def test_the_oldest_citations_are_kept_and_the_total_is_exact():
    rng = random.Random(3)
    cites = [cite(rng.randrange(10_000), n) for n in range(1_000)]
    one, parts = Oldest(), (Oldest(), Oldest())
    for n, c in enumerate(cites):
        one.add(c)
        parts[n % 2].add(c)
    parts[0].merge(parts[1])
    for result in (one, parts[0]):
        assert result.total == 1_000
        assert result.oldest() == sorted(cites)[:MAX_CITED]


@pytest.mark.parametrize("jobs", [1, 2])
def test_references_whose_targets_are_read_later_are_let_go_while_reading_and_the_verdict_stays(
    tmp_path, tmp_path_factory, monkeypatch, jobs
):
    lines = generated(tmp_path_factory, 2000, profile="reference").read_bytes().splitlines(keepends=True)
    path = tmp_path / "evidence.ndjson"
    path.write_bytes(b"".join(lines) + b"".join(lines[:40]))  # 40 read twice: the second pass holds them aside
    monkeypatch.setattr(workers, "SPLIT_BYTES", 64 * 1024)  # with two jobs, read in two byte ranges
    prune = ledger.Ledger.prune_links
    monkeypatch.setattr(ledger.Ledger, "prune_links", lambda self: None)
    unpruned = summarise(load([str(path)], jobs=jobs, limits=SPLIT), "chain", None)
    pruned: list[int] = []
    monkeypatch.setattr(ledger, "PRUNE_LINKS_AT", 16)
    monkeypatch.setattr(ledger.Ledger, "prune_links", lambda self: (pruned.append(len(self.links)), prune(self)))
    loaded = load([str(path)], jobs=jobs, limits=SPLIT)
    waiting = loaded.ledger.links
    assert len(pruned) > 10  # looked up again while reading (here), not only at the end
    assert jobs > 1 or not loaded.ledger.knows({hash(link.target) for link in waiting})
    again = summarise(loaded, "chain", None)
    assert loaded.duplicates and any(w.code == "evidence_reference_broken" for w in again.closure.warnings)
    assert again.model_dump_json() == unpruned.model_dump_json()
