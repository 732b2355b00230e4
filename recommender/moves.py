"""The moves that set won deals apart from lost ones, mined from the reps' own notes (issue 19).

A fixed word list only knows the moves someone thought of, in the words they thought of; a team that wins by
writing the client's project-approval paper or by taking the boss to dinner is never told so. Here the notes of
the comparable won and lost deals are cut into Chinese character pairs and triples ("fragments"), and two notes say
the same thing when 30 % of their fragments are common to both (counted for all pairs by one sparse product).

Each note belongs to a moment: the stage it was written in, or the move out of it (the brief that moved the deal
on). A won deal's note is a candidate when won deals write notes like it more often than the lost deals that got to
that moment do, and at least twice as often as lost deals do at any time: progress the lost deals never reached
("报价已发") and what every deal writes ("电话跟进", festival gifts) are no move. The deals are split in ten folds: the
deals outside a fold take a moment's candidates strongest first, each wording kept while the split between won and
lost deals stays as telling (one wording is a handful of deals; one move in five wordings, 参观 / 实地参观 /
带客户去看工厂, is enough), and the fold's own deals are judged by those wordings, which their outcomes took no part
in. A moment holds a move when, over those judgements, 40 % of the won deals made it, three times as often as the
lost ones, and a one-sided hypergeometric test (p ≤ 0.05 over the moments tried) says the split is unlikely by
chance: wordings picked for leaning to the won side by chance lean no more on deals they were not picked from.
The move is named by its most telling
fragment, shown with the reps' own words, and carries its evidence: how many won and lost deals did it, in which
stage, how many working days after entering it, and what the lost deals wrote in that stage instead.
"""

from __future__ import annotations

import itertools
import math
import re
import statistics
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
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
FOLDS = 10  # the deals outside a fold choose a move's wordings, the fold's deals test them
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

    def _rows(self, notes: list[_Note]) -> Any:
        import numpy as np

        return np.fromiter((self.row[id(n)] for n in notes), dtype=np.int64, count=len(notes))

    def by_deal(self, notes: list[_Note], deals: list[int]) -> tuple[list[int], Any]:
        """These deals, and which fragments each wrote in these notes (a 0/1 matrix, a row per deal)."""
        import numpy as np
        from scipy.sparse import csr_matrix

        at = {d: i for i, d in enumerate(deals)}
        which = csr_matrix((np.ones(len(notes), dtype=np.int32), ([at[n.deal] for n in notes], self._rows(notes))),
                           shape=(len(deals), self.matrix.shape[0]))  # fmt: skip
        writes = (which @ self.matrix).tocsr()
        writes.data[:] = 1
        return deals, writes

    def count(self, notes: list[_Note], mask: Any) -> Any:
        """How many fragments of each note the 0/1 ``mask`` over the columns holds."""
        import numpy as np

        if not notes:
            return np.zeros(0, dtype=np.int64)
        return np.asarray(self.matrix[self._rows(notes)] @ mask).ravel()

    def alike(self, rows: list[_Note], among: list[_Note]) -> list[list[int]]:
        """For each note of ``rows``, the notes of ``among`` that say what it says (this share of their fragments
        is common to both: Jaccard ≥ ALIKE), counted in bulk."""

        out: list[list[int]] = [[] for _ in rows]
        if not rows or not among:
            return out
        a, b = self._rows(rows), self._rows(among)
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
    """The moves the won deals made and the lost ones did not, most done first.

    The deals are split in ten folds by id. The deals outside a fold choose a move's wordings among their notes
    (``_Moment.choose``), and the fold's deals are judged by those wordings, which their own outcomes took no part in:
    picking, among many wordings, those that lean to the won side by chance and adding them up looks like a move on
    the deals they were picked from, and on those alone (13 runs of 60 named one where won and lost deals wrote from
    the same pool of notes). The test is on those judgements over every deal; a move's evidence then counts every
    deal that wrote a note like one of its wordings."""
    if not won or len(lost) < MIN_LOST:
        return []
    won_notes = [n for h in won for n in _notes(h)]
    lost_notes = [n for h in lost for n in _notes(h)]
    # a move is told from what the lost deals did in the same stage, by those that got there: a lost deal that never
    # reached a quote wrote no "报价已发", and that says nothing about what wins. The brief that moved a deal on
    # ("报价已发" as it leaves the demo) is the advance itself: it is told from the lost deals that moved on too.
    there = {moment: {h.id for h in lost if _got_to(h, *moment)} for moment in {n.moment for n in won_notes}}
    fragments_of = _Fragments(won_notes + lost_notes)
    won_writes = fragments_of.by_deal(won_notes, [h.id for h in won])  # every deal, those with no note too
    lost_writes = fragments_of.by_deal(lost_notes, [h.id for h in lost])
    folds = [_Fold(fold, won_writes, lost_writes) for fold in range(FOLDS)]
    tried = max(1, sum(len(ids) >= MIN_LOST for ids in there.values()))  # every moment a move could be found in
    moves = []
    lost_count = _deals_writing(lost_notes)  # for naming: what the lost deals write is no name of a move
    names = [n for h in (*won, *lost) for n in (h.customer.name, *h.customer.aliases)]
    for (stage, advance), got_there in there.items():
        if len(got_there) < MIN_LOST:
            continue
        at = _Moment((stage, advance), won_notes, lost_notes, got_there, fragments_of)
        chosen: set[int] = set()
        did_won = did_lost = 0
        for fold in folds:
            kept = at.choose(fold)
            won_did, lost_did = at.made(kept)  # each deal judged by the wordings the other folds chose
            did_won += len(won_did & fold.won_ids)
            did_lost += len(lost_did & fold.lost_ids & got_there)
            chosen |= kept
        if not chosen or not _telling(did_won, len(won), did_lost, len(got_there), min_share, max_p / tried):
            continue
        # the move over every deal: the won deals' notes at that moment like one of its wordings, and the lost ones'
        kept_notes = [at.won[i] for i in sorted(set().union(*(at.won_won[i] for i in chosen)))]
        deals, lost_deals = at.made(chosen)
        name = _name(kept_notes, lost_count, len(won) / len(lost), names)
        written = Counter(n.text for n in kept_notes)
        ordered = sorted(kept_notes, key=lambda n: (name not in n.text, -written[n.text], n.text))
        wordings, sources = tuple(n.text for n in ordered), tuple(n.deal for n in ordered)
        instead, instead_source = _instead(lost_notes, stage, kept_notes, fragments_of)
        moves.append(MinedMove(name, _examples(kept_notes, name), wordings, sources, len(deals), len(won),
                               len(lost_deals), len(got_there), stage, _days(kept_notes, calendar, tz), instead,
                               advance, instead_source))  # fmt: skip
    return sorted(moves, key=lambda m: (-m.won_with, m.lost_with, m.name))


def _telling(won_with: int, won: int, lost_with: int, lost: int, min_share: float, max_p: float) -> bool:
    """Enough of the won deals, three times as often as the lost ones (smoothed), and unlikely by chance."""
    return (won_with / won >= min_share and won_with / won >= LIFT * (lost_with + 0.5) / (lost + 1)
            and _upper_tail(won_with, won, lost_with, lost) <= max_p)  # fmt: skip


class _Fold:
    """A fold of the deals (by a hash of the id: ids in order often follow how they were made), and what the deals
    outside it know: the fragments their won deals write more often than their lost ones (a mask over the columns of
    ``_Fragments``)."""

    def __init__(self, fold: int, won: tuple[list[int], Any], lost: tuple[list[int], Any]) -> None:
        import numpy as np

        def split(deals: list[int], writes: Any) -> tuple[set[int], set[int], Any]:
            inside = np.array([zlib.crc32(b"%d" % d) % FOLDS == fold for d in deals], dtype=bool)
            counts = np.asarray(writes[~inside].sum(axis=0)).ravel()  # deals outside the fold writing each fragment
            ids = np.asarray(deals)
            return set(ids[inside].tolist()), set(ids[~inside].tolist()), counts

        self.won_ids, self.pick_won, won_count = split(*won)
        self.lost_ids, self.pick_lost, lost_count = split(*lost)
        nw, nl = max(len(self.pick_won), 1), len(self.pick_lost)
        self.distinctive = ((won_count >= 2) & (won_count / nw >= FRAGMENT_LIFT * (lost_count + 0.5) / (nl + 1))
                            ).astype(np.int32)  # fmt: skip


class _Moment:
    """The notes of one moment, and which notes are alike, worked out once for all folds (by index)."""

    def __init__(self, moment: tuple[Stage | None, bool], won_notes: list[_Note], lost_notes: list[_Note],
                 got_there: set[int], fragments_of: _Fragments) -> None:  # fmt: skip
        self.got_there = got_there
        self.won = [n for n in won_notes if n.moment == moment]
        self.lost = [n for n in lost_notes if n.moment == moment]
        self.won_notes, self.lost_notes = won_notes, lost_notes
        self.won_won = fragments_of.alike(self.won, self.won)  # at the same moment on both sides…
        self.won_lost = fragments_of.alike(self.won, self.lost)
        self.won_ever = fragments_of.alike(self.won, won_notes)  # …and at any time
        self.lost_ever = fragments_of.alike(self.won, lost_notes)
        self.fragments_of = fragments_of

    def choose(self, fold: _Fold) -> set[int]:
        """The wordings (indexes of ``won``) the deals outside the fold take for a move here (``_grow``)."""
        nw, nl = len(fold.pick_won), len(fold.pick_lost)
        compared = len(self.got_there & fold.pick_lost)
        if not nw or not compared:
            return set()
        found = []
        telling = self.fragments_of.count(self.won, fold.distinctive)  # distinctive fragments in each note
        for i, note in enumerate(self.won):
            if note.deal not in fold.pick_won or telling[i] < 2:
                continue
            ever_won = len({self.won_notes[j].deal for j in self.won_ever[i]} & fold.pick_won)
            ever_lost = len({self.lost_notes[j].deal for j in self.lost_ever[i]} & fold.pick_lost)
            if ever_won / nw < ANY_LIFT * (ever_lost + 0.5) / (nl + 1):
                continue
            alike_won = {self.won[j].deal for j in self.won_won[i]} & fold.pick_won
            alike_lost = {self.lost[j].deal for j in self.won_lost[i]} & fold.pick_lost
            if len(alike_won) / nw >= NOTE_LIFT * (len(alike_lost) + 0.5) / (compared + 1):
                found.append((_upper_tail(len(alike_won), nw, len(alike_lost), compared), i, alike_won, alike_lost))
        return set(_grow(found, nw, compared, self.won))

    def made(self, kept: set[int]) -> tuple[set[int], set[int]]:
        """The won and lost deals with a note here like one of these wordings."""
        won = {self.won[j].deal for i in kept for j in self.won_won[i]}
        lost = {self.lost[j].deal for i in kept for j in self.won_lost[i]}
        return won, lost


def _deals_writing(notes: list[_Note]) -> Counter[str]:
    """How many deals wrote each fragment."""
    by_deal: dict[int, set[str]] = defaultdict(set)
    for n in notes:
        by_deal[n.deal] |= n.pieces
    count: Counter[str] = Counter()
    for written in by_deal.values():
        count.update(written)
    return count


def worded(
    label: str, words: tuple[str, ...], won: list[History], lost: list[History], calendar: WorkCalendar, tz: ZoneInfo
) -> MinedMove:
    """A move of a built-in list, with the evidence a mined one carries: the won deals whose notes before the close
    name one of ``words``, the stage they first did it in and the working days after entering it, against the lost
    deals that got to that stage (as mined moves are)."""
    first = [next((n for n in _notes(h) if any(w in n.text for w in words)), None) for h in won]
    notes = [n for n in first if n is not None]
    stage = Counter(n.stage for n in notes).most_common(1)[0][0] if notes else None
    there = [n for n in notes if n.stage == stage]
    moving_on = sum(n.advance for n in there) * 2 > len(there)
    compared = [h for h in lost if _got_to(h, stage, False)]
    lost_with = sum(any(any(w in n.text for w in words) for n in _notes(h)) for h in compared)
    return MinedMove(label, _examples(there, label), tuple(n.text for n in there), tuple(n.deal for n in there),
                     len(notes), len(won), lost_with, len(compared), stage, _days(there, calendar, tz), None,
                     moving_on)  # fmt: skip


def _got_to(h: History, stage: Stage | None, advance: bool) -> bool:
    """Whether the deal was in the stage (``advance``: and moved on from it, to a later open stage)."""
    if stage is None:
        return True
    return any(s.rank > stage.rank and not s.is_closed if advance else s is stage for s, _ in h.path)


def _grow(found: list[tuple[float, int, set[int], set[int]]], won: int, compared: int, notes: list[_Note]) -> list[int]:
    """One moment's move: its wordings taken strongest first, each kept while the won and lost deals that wrote
    alike notes split no less telling than before. A wording is a handful of deals, too few for a test of its own
    (one lost deal that wrote it would sink it); one move in five wordings is enough, and a note both sides write
    (a festival gift, a call to chase) only dilutes the split and stays out."""
    kept: list[int] = []
    deals: set[int] = set()
    lost_deals: set[int] = set()
    best = 1.0
    for _, i, alike_won, alike_lost in sorted(found, key=lambda f: (f[0], notes[f[1]].text, notes[f[1]].deal)):
        more, more_lost = deals | alike_won, lost_deals | alike_lost
        p = _upper_tail(len(more), won, len(more_lost), compared)
        if p <= best:
            kept.append(i)
            deals, lost_deals, best = more, more_lost, p
    return kept


def _name(kept: list[_Note], lost_count: Counter[str], scale: float, names: Iterable[str] = ()) -> str:
    """The fragment the move's notes share most and the lost deals' notes least, the longer the better: the move in
    the reps' own words (a tail like 下周再跟 is written by lost deals as well); never a piece of a customer's name."""
    return best_fragment([n.text for n in kept], lost_count, scale, names)


def best_fragment(texts: list[str], lost_count: Counter[str] | None = None, scale: float = 0.0,
                  names: Iterable[str] = ()) -> str:  # fmt: skip
    """The fragment most of these texts hold (less ``scale`` times the lost deals writing it), the longer the better,
    none inside one of ``names``; empty when there is none."""
    counts = Counter(p for text in texts for p in fragments(text))
    taken = [name for name in names if name]
    fits = [p for p in counts if not any(p in name for name in taken)]
    lost = lost_count or Counter()
    return max(fits, key=lambda p: (counts[p] - scale * lost[p], len(p), p), default="")


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
