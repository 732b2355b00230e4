"""The moves that set won deals apart from lost ones, mined from the reps' own notes (issue 19).

A fixed word list only knows the moves someone thought of, in the words they thought of; a team that wins by
writing the client's project-approval paper or by taking the boss to dinner is never told so. Here the notes of
the comparable won and lost deals are cut into Chinese character pairs and triples ("fragments"), and two notes say
the same thing when 30 % of their fragments are common to both (counted for all pairs by one sparse product).

Each note belongs to a moment: the stage it was written in, or the move out of it (the brief that moved the deal
on). A won deal's note is a candidate when won deals write notes like it more often than the lost deals that got to
that moment do, and at least twice as often as lost deals do at any time: progress the lost deals never reached
("报价已发") and what every deal writes ("电话跟进", festival gifts) are no move. A moment's candidates are then
taken strongest first, each wording kept while the split between won and lost deals stays as telling: one
wording is a handful of deals, one move in five wordings (参观 / 实地参观 / 带客户去看工厂) is enough. The group is a
move when 40 % of the won deals made it, three times as often as the lost ones, and a one-sided hypergeometric
test (p ≤ 0.05 over the moments tried) says the split is unlikely by chance. The move is named by its most telling
fragment, shown with the reps' own words, and carries its evidence: how many won and lost deals did it, in which
stage, how many working days after entering it, and what the lost deals wrote in that stage instead.
"""

from __future__ import annotations

import itertools
import math
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from recommender.history import History
from sales.calendar import WorkCalendar
from sales.stages import Stage

MIN_SHARE = 0.4  # a move is done by at least this share of the similar won deals
MAX_P = 0.05  # and its split between won and lost is this unlikely by chance
LIFT = 3.0  # a move is made this many times as often by won deals as by lost ones (smoothed)
FRAGMENT_LIFT = 1.0  # a fragment worth a look: won deals write it more often than lost ones…
NOTE_LIFT = 1.0  # …a note too, at the same moment, among the lost deals that got there…
ANY_LIFT = 2.0  # …and twice as often as lost deals at any time (what every deal writes is no move)
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
    moving_on: bool = False  # made in the brief that moved the deal on out of that stage
    instead_source: int | None = None  # the lost deal whose note ``lost_instead`` is: quoted only where it may be seen

    def as_json(self) -> dict[str, object]:
        return {"name": self.name, "examples": list(self.examples), "won_with": self.won_with, "won": self.won,
                "lost_with": self.lost_with, "lost": self.lost, "stage": self.stage.value if self.stage else None,
                "days_after_entering": self.days, "moving_on": self.moving_on,
                "lost_instead": self.lost_instead}  # fmt: skip


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
    advance: bool = False  # the brief that moved the deal on out of ``stage``

    @property
    def moment(self) -> tuple[Stage | None, bool]:
        return self.stage, self.advance


def _notes(h: History) -> list[_Note]:
    """The deal's latest notes before it closed (a signing or losing note says how it ended, not what moved it), with
    the stage each was written in. A brief that moved the deal on is stamped with the change's own time: it was
    written in the stage before (except the first, which created the customer)."""
    closed = next((at for stage, at in h.path if stage.is_closed), None)
    out = []
    for at, text in h.notes:
        if closed is not None and at >= closed:
            continue
        stage, entered, advance = None, None, False
        for number, (s, since) in enumerate(h.path):
            if since < at or (since == at and number == 0):
                stage, entered = s, since
            elif since == at:
                advance = True
        short = " ".join(text.replace(h.customer.name, "客户").split())[:NOTE_CHARS]  # no other rep's customer named
        out.append(_Note(h.id, at, short, stage, entered, fragments(short), advance))
    return out[-NOTES_PER_DEAL:]


def _upper_tail(won_with: int, won: int, lost_with: int, lost: int) -> float:
    """P(at least ``won_with`` of the deals that did it are won ones) if doing it had nothing to do with winning."""
    total, did = won + lost, won_with + lost_with
    return sum(math.comb(did, k) * math.comb(total - did, won - k)
               for k in range(won_with, min(did, won) + 1)) / math.comb(total, won)  # fmt: skip


ALIKE = 0.3  # two notes say the same thing when this share of their fragments is common to both (Jaccard)


class _Fragments:
    """Notes as rows of a sparse 0/1 matrix over their fragments: the fragments any two notes share are counted for
    all pairs at once, by one sparse product, instead of a set intersection per pair in Python (30 s for 150 deals of
    long notes in common words, where every pair shares something)."""

    def __init__(self, notes: list[_Note]) -> None:
        import numpy as np  # here, not at import: the server listens before it pays for numpy and scipy
        from scipy.sparse import csr_matrix

        self.row = {id(note): i for i, note in enumerate(notes)}
        columns: dict[str, int] = {}
        indices = [columns.setdefault(p, len(columns)) for n in notes for p in n.pieces]
        indptr = [0, *itertools.accumulate(len(n.pieces) for n in notes)]
        self.matrix = csr_matrix((np.ones(len(indices), dtype=np.int32), indices, indptr),
                                 shape=(len(notes), len(columns)))  # fmt: skip
        self.sizes = np.diff(np.asarray(indptr))

    def alike(self, rows: list[_Note], among: list[_Note]) -> list[list[int]]:
        """For each note of ``rows``, the notes of ``among`` that say what it says (this share of their fragments
        is common to both: Jaccard ≥ ALIKE), counted in bulk."""
        import numpy as np

        out: list[list[int]] = [[] for _ in rows]
        if not rows or not among:
            return out
        a = np.fromiter((self.row[id(n)] for n in rows), dtype=np.int64, count=len(rows))
        b = np.fromiter((self.row[id(n)] for n in among), dtype=np.int64, count=len(among))
        common = (self.matrix[a] @ self.matrix[b].T).tocoo()
        union = self.sizes[a][common.row] + self.sizes[b][common.col] - common.data
        keep = common.data >= ALIKE * union
        for i, j in zip(common.row[keep].tolist(), common.col[keep].tolist(), strict=True):
            out[i].append(j)
        return out


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
    # a move is told from what the lost deals did in the same stage, by those that got there: a lost deal that never
    # reached a quote wrote no "报价已发", and that says nothing about what wins. The brief that moved a deal on
    # ("报价已发" as it leaves the demo) is the advance itself: it is told from the lost deals that moved on too.
    there = {moment: [h.id for h in lost if _got_to(h, *moment)] for moment in {n.moment for n in won_notes}}
    fragments_of = _Fragments(won_notes + lost_notes)
    distinctive = {p for p, w in won_count.items()
                   if w >= 2 and w / nw >= FRAGMENT_LIFT * (lost_count[p] + 0.5) / (nl + 1)}  # fmt: skip
    candidates: dict[tuple[Stage | None, bool], list[tuple[float, _Note, set[int], set[int]]]] = defaultdict(list)
    for moment, compared_ids in there.items():
        compared = len(compared_ids)
        looked = [n for n in won_notes if n.moment == moment and len(n.pieces & distinctive) >= 2]
        if compared < MIN_LOST or not looked:
            continue
        won_there = [n for n in won_notes if n.moment == moment]  # at the same moment on both sides
        lost_there = [n for n in lost_notes if n.moment == moment]
        won_alike, lost_alike = fragments_of.alike(looked, won_there), fragments_of.alike(looked, lost_there)
        won_any, lost_any = fragments_of.alike(looked, won_notes), fragments_of.alike(looked, lost_notes)
        for note, near_won, near_lost, any_won, any_lost in zip(looked, won_alike, lost_alike, won_any, lost_any,
                                                                strict=True):  # fmt: skip
            alike_won = {won_there[j].deal for j in near_won}
            alike_lost = {lost_there[j].deal for j in near_lost}
            ever_won = len({won_notes[j].deal for j in any_won})
            ever_lost = len({lost_notes[j].deal for j in any_lost})
            if ever_won / nw < ANY_LIFT * (ever_lost + 0.5) / (nl + 1):
                continue
            if len(alike_won) >= 2 and len(alike_won) / nw >= NOTE_LIFT * (len(alike_lost) + 0.5) / (compared + 1):
                p = _upper_tail(len(alike_won), nw, len(alike_lost), compared)
                candidates[moment].append((p, note, alike_won, alike_lost))
    moves = []
    for (stage, advance), found in candidates.items():
        kept, deals, lost_deals, compared = _grow(found, nw, len(there[stage, advance]))
        lost_with = len(lost_deals)
        if len(deals) / nw < min_share or len(deals) / nw < LIFT * (lost_with + 0.5) / (compared + 1) \
                or _upper_tail(len(deals), nw, lost_with, compared) > max_p / len(candidates):  # fmt: skip
            continue
        name = _name(kept, lost_count, nw / max(nl, 1))
        written = Counter(n.text for n in kept)
        ordered = sorted(kept, key=lambda n: (name not in n.text, -written[n.text], n.text))
        wordings, sources = tuple(n.text for n in ordered), tuple(n.deal for n in ordered)
        instead, instead_source = _instead(lost_notes, stage, kept, fragments_of)
        moves.append(MinedMove(name, _examples(kept, name), wordings, sources, len(deals), nw, lost_with, compared,
                               stage, _days(kept, calendar, tz), instead, advance, instead_source))  # fmt: skip
    return sorted(moves, key=lambda m: (-m.won_with, m.lost_with, m.name))


def worded(
    label: str,
    did: Callable[[History], bool],
    words: tuple[str, ...],
    won: list[History],
    lost: list[History],
    calendar: WorkCalendar,
    tz: ZoneInfo,
) -> MinedMove:
    """A move of a built-in list, with the evidence a mined one carries: the deals ``did`` says made it, the stage the
    won ones first wrote one of ``words`` in and the working days after entering it."""
    made = [h for h in won if did(h)]
    first = [next((n for n in _notes(h) if any(w in n.text for w in words)), None) for h in made]
    notes = [n for n in first if n is not None]
    stage = Counter(n.stage for n in notes).most_common(1)[0][0] if notes else None
    there = [n for n in notes if n.stage == stage]
    wordings = tuple(n.text for n in there)
    moving_on = sum(n.advance for n in there) * 2 > len(there)
    return MinedMove(label, _examples(there, label), wordings, tuple(n.deal for n in there), len(made), len(won),
                     sum(did(h) for h in lost), len(lost), stage, _days(there, calendar, tz), None,
                     moving_on)  # fmt: skip


def _got_to(h: History, stage: Stage | None, advance: bool) -> bool:
    """Whether the deal was in the stage (``advance``: and moved on from it, to a later open stage)."""
    if stage is None:
        return True
    return any(s.rank > stage.rank and not s.is_closed if advance else s is stage for s, _ in h.path)


def _grow(
    found: list[tuple[float, _Note, set[int], set[int]]], won: int, compared: int
) -> tuple[list[_Note], set[int], set[int], int]:
    """One stage's move: its wordings taken strongest first, each kept while the won and lost deals that wrote
    alike notes split no less telling than before. A wording is a handful of deals, too few for a test of its own
    (one lost deal that wrote it would sink it); one move in five wordings is enough, and a note both sides write
    (a festival gift, a call to chase) only dilutes the split and stays out."""
    kept: list[_Note] = []
    deals: set[int] = set()
    lost_deals: set[int] = set()
    best = 1.0
    for _, note, alike_won, alike_lost in sorted(found, key=lambda f: (f[0], f[1].text, f[1].deal)):
        more, more_lost = deals | alike_won, lost_deals | alike_lost
        p = _upper_tail(len(more), won, len(more_lost), compared)
        if p <= best:
            kept.append(note)
            deals, lost_deals, best = more, more_lost, p
    return kept, deals, lost_deals, compared


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


def _instead(
    lost_notes: list[_Note], stage: Stage | None, kept: list[_Note], fragments_of: _Fragments
) -> tuple[str | None, int | None]:
    """The note the lost deals wrote most often in that stage (by the fragment most of those deals share), and its
    deal."""
    in_stage = [n for n in lost_notes if n.stage == stage]
    there = [n for n, alike in zip(in_stage, fragments_of.alike(in_stage, kept), strict=True) if not alike]
    if not there:
        return None, None
    deals: dict[str, set[int]] = defaultdict(set)
    for n in there:
        for p in n.pieces:
            deals[p].add(n.deal)
    top = max(deals, key=lambda p: (len(deals[p]), len(p), p))
    found = next(n for n in there if top in n.pieces)
    return found.text, found.deal
