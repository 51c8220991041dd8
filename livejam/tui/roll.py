"""The piano roll: the last seconds of the conversation, drawn from the engine's
note log (never by re-reading MIDI). Pitch up, time to the right, now at the edge."""
from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

COLOURS = {"you": "bold #56c8e8", "livejam": "bold #ff5f87"}  # the legend and the state box use these too
NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]


def note_name(p: int) -> str:
    return f"{NAMES[p % 12]}{p // 12 - 1}"


def intervals(roll, now: float) -> list[tuple[float, float, str, int]]:
    """(start, end, source, pitch) from the on/off log; notes still held end now."""
    open_: dict[tuple[str, int], float] = {}
    out = []
    for t, src, pitch, on in list(roll):
        key = (src, pitch)
        if key in open_:
            out.append((open_.pop(key), t, src, pitch))
        if on:
            open_[key] = t
    out += [(t, now, src, pitch) for (src, pitch), t in open_.items()]
    return out


def draw(notes, now: float, window: float, width: int, height: int) -> Text:
    width, height = max(width - 5, 4), max(height, 1)
    notes = [n for n in notes if n[1] >= now - window]
    if notes:
        lo, hi = min(n[3] for n in notes), max(n[3] for n in notes)
        mid = (lo + hi) // 2
        lo = max(0, min(mid - height // 2, 128 - height))
    else:
        lo = 60 - height // 2
    grid = [[None] * width for _ in range(height)]
    for start, end, src, pitch in notes:
        row = height - 1 - (pitch - lo)
        if not 0 <= row < height:
            continue
        a = max(0, int((start - (now - window)) / window * width))
        b = min(width - 1, int((end - (now - window)) / window * width))
        for c in range(a, max(a, b) + 1):
            grid[row][c] = src if grid[row][c] in (None, src) else "livejam"
    text = Text(no_wrap=True)
    for r in range(height):
        pitch = lo + height - 1 - r
        label = note_name(pitch) if pitch % 12 == 0 else ""
        text.append(f"{label:>4} ", style="dim")
        for cell in grid[r]:
            text.append("█" if cell else ("·" if pitch % 12 == 0 else " "), style=COLOURS.get(cell, "dim"))
        if r < height - 1:
            text.append("\n")
    return text


class PianoRoll(Widget):
    window = 12.0

    def __init__(self, engine, **kw) -> None:
        super().__init__(**kw)
        self.engine = engine

    def on_mount(self) -> None:
        self.set_interval(1 / 15, self.refresh)

    def render(self) -> Text:
        now = self.engine.clock.now() - self.engine.origin
        return draw(intervals(self.engine.roll, now), now, self.window, self.size.width, self.size.height)
