"""What every document leads with: the open items grouped by what fixes them, and the resolved
chains counted by loop and provider, before any list of single items or chains."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime

from reportgen.evidence.text import plural
from reportgen.judge.groups import group_items, group_key
from reportgen.judge.verdict import OpenItem, ResolvedChain
from reportgen.view.model import ChainTally, Example, FixView, LoopGroup
from reportgen.view.words import LOOP_TITLES, RETRY_STATE_LABELS, SEVERITY_LABELS, age, anchor, loop_order, stamp


def action_text(count: int, shared: bool) -> str:
    """'One action fixes 12 open items', saying whose action is shown when the items' actions differ."""
    text = f"One action fixes {plural(count, 'open item')}"
    return text if shared else f"{text} (each item names its own details; the oldest item's action is shown)"


def fix_views(items: Sequence[OpenItem], as_of: datetime) -> tuple[FixView, ...]:
    """The open items grouped by what fixes them (loop, code, retry or acknowledgement state, provider)."""
    views, by_id = [], {item.id: item for item in items}
    for number, group in enumerate(group_items(items), start=1):
        label, icon = SEVERITY_LABELS[group.severity]
        loop_title = LOOP_TITLES.get(group.loop, group.loop)
        views.append(
            FixView(
                number=number,
                anchor=f"fix-{number}",
                key=group.key,
                loop=group.loop,
                loop_title=loop_title,
                code=group.code,
                state=RETRY_STATE_LABELS.get(group.state or "", group.state or "—"),
                provider=group.provider or "—",
                provider_key=group.provider or "",
                severity=group.severity,
                severity_label=label,
                severity_icon=icon,
                count=group.count,
                oldest=stamp(group.oldest_opened_at),
                oldest_age=age(group.oldest_opened_at, as_of),
                operator_action=group.operator_action,
                action_text=action_text(group.count, group.action_shared),
                title=group.title,
                detail=group.detail,
                examples=tuple(Example(i, by_id[i].health_id or "—") for i in group.example_ids),
                list_anchor=anchor(loop_title),
            )
        )
    return tuple(views)


def chain_tallies(chains: Iterable[ResolvedChain]) -> tuple[ChainTally, ...]:
    """The resolved chains counted by loop and provider: loops in their fixed order, then by provider."""
    found: dict[tuple[str, str], list[int]] = {}
    for chain in chains:
        tally = found.setdefault((chain.loop, chain.provider), [0, 0])
        tally[0] += 1
        tally[1] += chain.failures
    keys = sorted(found, key=lambda key: (loop_order(key[0]), key[1]))
    return tuple(ChainTally(loop, LOOP_TITLES.get(loop, loop), provider, *found[loop, provider]) for loop, provider in keys)


def numbered(groups: Sequence[LoopGroup], items: Iterable[OpenItem], fixes: Sequence[FixView]) -> tuple[LoopGroup, ...]:
    """The loops' item views, each naming the number of its group of what fixes it."""
    number = {f.key: f.number for f in fixes}
    by_id = {item.id: number.get(group_key(item), 0) for item in items}
    return tuple(replace(g, items=tuple(replace(i, fix=by_id.get(i.id, 0)) for i in g.items)) for g in groups)
