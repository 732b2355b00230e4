"""The moves that set won deals apart from lost ones, mined from the reps' own notes (issue 19).

A fixed word list only knows the moves someone thought of, in the words they thought of; a team that wins by
writing the client's project-approval paper or by taking the boss to dinner is never told so. Here the notes of
the similar won and lost deals are cut into Chinese character pairs and triples ("fragments"); a fragment is
distinctive when won deals write it at least three times as often as lost ones. A won deal's note with two or more
distinctive fragments is a candidate, and is kept only when won deals write notes like it (sharing two of its
distinctive fragments) clearly more often than lost deals do: something both do (festival gifts, "电话跟进") is no
move. The kept notes are grouped by the stage they were written in, so the different wordings of one move (参观 /
实地参观 / 带客户去看工厂) count as one; a group becomes a move when enough won deals are in it and a one-sided
hypergeometric test says the split between won and lost is unlikely by chance. The move is named by its most
telling fragment, shown with the reps' own words, and carries its evidence: how many won and lost deals did it, in
which stage, how many working days after entering it, and what the lost deals wrote in that stage instead.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from recommender.history import History
from sales.calendar import WorkCalendar
from sales.stages import Stage

MIN_SHARE = 0.4  # a move is done by at least this share of the similar won deals
MAX_P = 0.05  # and its split between won and lost is this unlikely by chance
LIFT = 3.0  # a distinctive fragment, or note, is written this many times as often by won deals as by lost ones
MIN_LOST = 3  # fewer similar lost deals than this: nothing to tell a move from what every deal does
NOTES_PER_DEAL = 30  # the latest notes before the close, each cut at NOTE_CHARS: the pairwise comparisons stay bounded
NOTE_CHARS = 200
_HAN = re.compile(r"[\u4e00-\u9fff]+")


@dataclass(frozen=True)
class MinedMove:
    """One move and its evidence; ``examples`` are notes as the reps wrote them."""

    name: str
    examples: tuple[str, ...]
    wordings: tuple[str, ...]  # every kept note of the move, those that hold the name and the most written first
    sources: tuple[int, ...]  # the deal (customer id) of each wording: quoted only where the asker may see it
    won_with: int
    won: int
    lost_with: int
    lost: int  # the similar lost deals that got to that stage
    stage: Stage | None  # the stage the won deals were in when they did it
    days: int | None  # median working days from entering that stage to doing it
    lost_instead: str | None  # what the lost deals wrote in that stage instead

    def as_json(self) -> dict[str, object]:
        return {"name": self.name, "examples": list(self.examples), "won_with": self.won_with, "won": self.won,
                "lost_with": self.lost_with, "lost": self.lost, "stage": self.stage.value if self.stage else None,
                "days_after_entering": self.days, "lost_instead": self.lost_instead}  # fmt: skip


def fragments(text: str) -> frozenset[str]:
    """The character pairs and triples of the text's Chinese runs: no dictionary, so a company's own words count."""
    out: set[str] = set()
    for run in _HAN.findall(text):
        for n in (2, 3):
            out.update(run[i : i + n] for i in range(len(run) - n + 1))
    return frozenset(out)


@dataclass(frozen=True)
class _Note:
    deal: int
    at: datetime
    text: str
    stage: Stage | None
    entered: datetime | None
    pieces: frozenset[str]


def _notes(h: History) -> list[_Note]:
    """The deal's latest notes before it closed (a signing or losing note says how it ended, not what moved it), with
    the stage each was written in. A brief that moved the deal on is stamped with the change's own time: it was
    written in the stage before (except the first, which created the customer)."""
    closed = next((at for stage, at in h.path if stage.is_closed), None)
    out = []
    for at, text in h.notes:
        if closed is not None and at >= closed:
            continue
        stage, entered = None, None
        for number, (s, since) in enumerate(h.path):
            if since < at or (since == at and number == 0):
                stage, entered = s, since
        short = " ".join(text.replace(h.customer.name, "客户").split())[:NOTE_CHARS]  # no other rep's customer named
        out.append(_Note(h.id, at, short, stage, entered, fragments(short)))
    return out[-NOTES_PER_DEAL:]


def _upper_tail(won_with: int, won: int, lost_with: int, lost: int) -> float:
    """P(at least ``won_with`` of the deals that did it are won ones) if doing it had nothing to do with winning."""
    total, did = won + lost, won_with + lost_with
    return sum(math.comb(did, k) * math.comb(total - did, won - k)
               for k in range(won_with, min(did, won) + 1)) / math.comb(total, won)  # fmt: skip


ALIKE = 0.3  # two notes say the same thing when this share of their fragments is common to both (Jaccard)


def _alike(a: frozenset[str], b: frozenset[str]) -> bool:
    common = len(a & b)
    return common > 0 and common >= ALIKE * (len(a) + len(b) - common)


class _Notes:
    """Notes with an index from each fragment to the notes holding it: a note is compared only with the notes that
    share a fragment with it, not with every note."""

    def __init__(self, notes: list[_Note]) -> None:
        self.notes = notes
        self.holding: dict[str, list[int]] = defaultdict(list)
        for i, note in enumerate(notes):
            for piece in note.pieces:
                self.holding[piece].append(i)

    def deals_alike(self, note: _Note) -> set[int]:
        """The deals with a note saying what ``note`` says (the same thing in about the same words)."""
        near = {i for piece in note.pieces for i in self.holding.get(piece, ())}
        return {self.notes[i].deal for i in near if _alike(self.notes[i].pieces, note.pieces)}


def mine_moves(
    won: list[History],
    lost: list[History],
    calendar: WorkCalendar,
    tz: ZoneInfo,
    *,
    min_share: float = MIN_SHARE,
    max_p: float = MAX_P,
) -> list[MinedMove]:
    """The moves the won deals made and the lost ones did not, most done first."""
    if not won or len(lost) < MIN_LOST:
        return []
    nw, nl = len(won), len(lost)
    won_by_deal, lost_by_deal = [_notes(h) for h in won], [_notes(h) for h in lost]
    won_notes = [n for notes in won_by_deal for n in notes]
    lost_notes = [n for notes in lost_by_deal for n in notes]
    won_count: Counter[str] = Counter(p for notes in won_by_deal for p in set().union(*(n.pieces for n in notes)))
    lost_count: Counter[str] = Counter(p for notes in lost_by_deal for p in set().union(*(n.pieces for n in notes)))
    won_index = _Notes(won_notes)
    # a move is told from what the lost deals did in the same stage, by those that got there: a lost deal that never
    # reached a quote wrote no "报价已发", and that says nothing about what wins
    there = {
        stage: [h.id for h in lost if any(s is stage for s, _ in h.path)] for stage in {n.stage for n in won_notes}
    }
    lost_index = {stage: _Notes([n for n in lost_notes if n.stage == stage]) for stage in there}
    lost_alike: dict[_Note, set[int]] = {}  # worked out once per note
    distinctive = {p for p, w in won_count.items()
                   if w >= 2 and w / nw >= LIFT * (lost_count[p] + 0.5) / (nl + 1)}  # fmt: skip
    groups: dict[Stage | None, list[_Note]] = defaultdict(list)
    for note in won_notes:
        compared = len(there[note.stage])
        if len(note.pieces & distinctive) < 2 or compared < MIN_LOST:
            continue
        alike_won = won_index.deals_alike(note)
        alike_lost = lost_alike[note] = lost_index[note.stage].deals_alike(note)
        if len(alike_won) >= 2 and len(alike_won) / nw >= LIFT * (len(alike_lost) + 0.5) / (compared + 1):
            groups[note.stage].append(note)
    moves = []
    for stage, kept in groups.items():
        deals, compared = {n.deal for n in kept}, len(there[stage])
        lost_with = len({d for n in kept for d in lost_alike[n]})
        if len(deals) / nw < min_share or _upper_tail(len(deals), nw, lost_with, compared) > max_p:
            continue
        name = _name(kept, lost_count, nw / max(nl, 1))
        written = Counter(n.text for n in kept)
        ordered = sorted(kept, key=lambda n: (name not in n.text, -written[n.text], n.text))
        wordings, sources = tuple(n.text for n in ordered), tuple(n.deal for n in ordered)
        moves.append(MinedMove(name, _examples(kept, name), wordings, sources, len(deals), nw, lost_with, compared,
                               stage, _days(kept, calendar, tz), _instead(lost_notes, stage, kept)))  # fmt: skip
    return sorted(moves, key=lambda m: (-m.won_with, m.lost_with, m.name))


def _name(kept: list[_Note], lost_count: Counter[str], scale: float) -> str:
    """The fragment the move's notes share most and the lost deals' notes least, the longer the better: the move in
    the reps' own words (a tail like 下周再跟 is written by lost deals as well)."""
    counts = Counter(p for n in kept for p in n.pieces)
    return max(counts, key=lambda p: (counts[p] - scale * lost_count[p], len(p), p))


def _examples(kept: list[_Note], name: str) -> tuple[str, ...]:
    """Up to two wordings that hold the name first, the most written first, each as it was written."""
    texts = Counter(n.text.strip() for n in kept)
    return tuple(sorted(texts, key=lambda t: (name not in t, -texts[t], t))[:2])


def _days(kept: list[_Note], calendar: WorkCalendar, tz: ZoneInfo) -> int | None:
    """Median working days from entering the stage to the move, over the deals' first notes of it."""
    first: dict[int, _Note] = {}
    for n in sorted(kept, key=lambda n: n.at):
        first.setdefault(n.deal, n)
    spans = [calendar.workdays_after(n.entered.astimezone(tz).date(), n.at.astimezone(tz).date())
             for n in first.values() if n.entered is not None]  # fmt: skip
    return round(statistics.median(spans)) if spans else None


def _instead(lost_notes: list[_Note], stage: Stage | None, kept: list[_Note]) -> str | None:
    """The note the lost deals wrote most often in that stage (by the fragment most of those deals share)."""
    there = [n for n in lost_notes if n.stage == stage and not any(_alike(n.pieces, k.pieces) for k in kept)]
    if not there:
        return None
    deals: dict[str, set[int]] = defaultdict(set)
    for n in there:
        for p in n.pieces:
            deals[p].add(n.deal)
    top = max(deals, key=lambda p: (len(deals[p]), len(p), p))
    return next(n.text for n in there if top in n.pieces)
