"""The piano roll: the last seconds of the conversation, drawn from the engine's
note log (never by re-reading MIDI). Pitch up, time to the right, now a second
before the right edge: what livejam has decided to play next (its plan) shows
there as ghost notes before it sounds.

It costs nothing while nothing moves: rows are rebuilt as coalesced runs (one
segment per run of equal cells) only when a note starts or ends (the log's
doorbell) or when time has moved the window by a whole column, and that clock
only runs while something is in view; at most once a column, and only the rows
that changed are drawn again."""
from __future__ import annotations

import math

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from ...settings.config import note_name

COLOURS = {"you": "bold #56c8e8", "livejam": "bold #ff5f87", "plan": "#ff5f87"}  # the legend and state box too
AHEAD = 1.0  # seconds right of now where the plan shows (an answer's reaches 0.5 s in free time)
LABEL = 5  # columns for the octave labels


def intervals(entries, now: float) -> list[tuple[float, float, str, int]]:
    """(start, end, source, pitch) from the on/off log; notes still held end now."""
    open_: dict[tuple[str, int], float] = {}
    out = []
    for t, src, pitch, on in entries:
        key = (src, pitch)
        if key in open_:
            out.append((open_.pop(key), t, src, pitch))
        if on:
            open_[key] = t
    out += [(t, now, src, pitch) for (src, pitch), t in open_.items()]
    return out


def draw(notes, edge: float, window: float, width: int, height: int) -> list[list[tuple[str, str]]]:
    """Rows top to bottom, each a list of (text, style name) runs: the label, then
    cells ("you", "livejam", "dim"). `edge` is the time at the right edge."""
    cols, height = max(width - LABEL, 4), max(height, 1)
    start = edge - window
    notes = [n for n in notes if n[1] >= start]
    if notes:
        lo, hi = min(n[3] for n in notes), max(n[3] for n in notes)
        lo = max(0, min((lo + hi) // 2 - height // 2, 128 - height))
    else:
        lo = 60 - height // 2
    grid = [[None] * cols for _ in range(height)]
    for t0, t1, src, pitch in notes:
        row = height - 1 - (pitch - lo)
        if not 0 <= row < height:
            continue
        a = min(cols - 1, max(0, int((t0 - start) / window * cols)))
        b = min(cols - 1, int((t1 - start) / window * cols))
        for c in range(a, max(a, b) + 1):
            grid[row][c] = src if grid[row][c] in (None, src, "plan") else grid[row][c] if src == "plan" else "livejam"
    rows = []
    for r in range(height):
        pitch = lo + height - 1 - r
        c_line = pitch % 12 == 0
        runs = [(f"{note_name(pitch) if c_line else '':>4} ", "dim")]
        for cell in grid[r]:
            text, style = ("░" if cell == "plan" else "█", cell) if cell else ("·" if c_line else " ", "dim")
            if runs[-1][1] == style:
                runs[-1] = (runs[-1][0] + text, style)
            else:
                runs.append((text, style))
        rows.append(runs)
    return rows


class PianoRoll(Widget):
    window = 12.0

    class Changed(Message):
        """The note log rang: rebuild. Pending ones merge, so a burst is one rebuild."""

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, PianoRoll.Changed)

    def __init__(self, engine, **kw) -> None:
        super().__init__(**kw)
        self.engine = engine
        self.strips: list[Strip] = []
        self.rows: list = []  # the runs behind each strip, to see which rows changed
        self.timer = None
        self.rebuilds = 0  # how often the rows were computed (tests and the bench look)

    def on_mount(self) -> None:
        self.engine.roll.on_change = lambda: self.post_message(self.Changed())
        self.rebuild()

    def on_unmount(self) -> None:
        self.engine.roll.on_change = None

    def on_piano_roll_changed(self, _: Changed) -> None:
        # A column is the roll's resolution: a note that starts now shows at the next
        # column step, so while that step is pending there is nothing to do yet.
        if self.timer is None:
            self.rebuild()

    def on_resize(self) -> None:
        self.rebuild()

    def rebuild(self) -> None:
        if self.timer is not None:
            self.timer.stop()
            self.timer = None
        width, height = self.size.width, self.size.height
        if width <= 0 or height <= 0:
            return
        now = self.engine.clock.now() - self.engine.origin
        column = self.window / max(width - LABEL, 4)
        edge = (math.floor((now + AHEAD) / column) + 1) * column  # columns sit still between rebuilds
        notes = intervals(self.engine.roll.take(), now)
        notes += [(max(s, now), e, "plan", p) for s, e, p in self.engine.roll.plan if e > now]  # not yet sounding
        base = self.rich_style
        styles = {"dim": base + Style(dim=True), **{k: base + Style.parse(v) for k, v in COLOURS.items()}}
        rows = draw(notes, edge, self.window, width, height)
        if len(rows) != len(self.rows) or (self.strips and self.strips[0].cell_length != width):
            self.rows = []  # a new size: every row is new
        for y, runs in enumerate(rows):
            if y < len(self.rows) and self.rows[y] == runs:
                continue  # unchanged rows are not drawn again
            strip = Strip([Segment(text, styles[s]) for text, s in runs], width)
            if y < len(self.strips):
                self.strips[y] = strip
            else:
                self.strips.append(strip)
            self.refresh(Region(0, y, width, 1))
        del self.strips[len(rows):]
        self.rows = rows
        self.rebuilds += 1
        if any(t1 >= edge - self.window for _, t1, _, _ in notes):
            # Something is in view: move it one column on; nothing in view, no clock at all.
            self.timer = self.set_timer(max(0.001, edge - now), self.rebuild)

    def render_line(self, y: int) -> Strip:
        return self.strips[y] if y < len(self.strips) else Strip.blank(self.size.width, self.rich_style)
