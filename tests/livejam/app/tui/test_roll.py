"""The piano roll: drawn as coalesced runs, rebuilt only when a note starts or
ends or the window moves a column, and with no clock at all once nothing is in view."""
import pytest

from livejam.timing.wallclock import FakeClock
from livejam.settings.config import LivejamConfig
from livejam.app.nomidi import NoMidiRig
from livejam.model.onnx_model import OnnxModel
from livejam.app.tui.app import LivejamApp
from livejam.app.tui.roll import LABEL, draw, intervals
from tests.livejam.app.tui.test_app import until


def test_a_note_is_one_run_of_its_colour():
    notes = intervals([(1.0, "you", 60, True), (4.0, "you", 60, False), (5.0, "livejam", 62, True)], now=6.0)
    assert (5.0, 6.0, "livejam", 62) in notes  # still sounding: ends now
    rows = draw(notes, edge=12.0, window=12.0, width=LABEL + 24, height=8)
    assert len(rows) == 8
    for runs in rows:
        assert sum(len(text) for text, _ in runs) == LABEL + 24  # every row fills the width
        assert all(a[1] != b[1] for a, b in zip(runs, runs[1:]))  # neighbours differ: runs are coalesced
    you = [text for runs in rows for text, style in runs if style == "you"]
    assert you == ["█" * 7]  # 1 s to 4 s at 2 cells a second, both ends inclusive
    assert [text for runs in rows for text, style in runs if style == "livejam"] == ["█" * 3]


def test_the_plan_is_drawn_as_ghost_notes_that_never_cover_a_sounding_note():
    notes = intervals([(5.0, "livejam", 62, True)], now=6.0) + [(6.0, 7.0, "plan", 62), (6.5, 7.5, "plan", 64)]
    rows = draw(notes, edge=8.0, window=8.0, width=LABEL + 16, height=6)
    cells = {style: "".join(t for runs in rows for t, s in runs if s == style) for style in ("livejam", "plan")}
    assert set(cells["plan"]) == {"░"} and len(cells["plan"]) >= 3  # 64's second ahead, and 62's rest
    assert cells["livejam"] == "█" * 3  # 62 sounding up to now keeps its colour where the plan meets it


def test_nothing_in_view_draws_an_empty_grid():
    rows = draw(intervals([(0.0, "you", 60, True), (0.5, "you", 60, False)], 20.0), 20.0, 12.0, 40, 6)
    assert not [s for runs in rows for _, s in runs if s in ("you", "livejam")]


def test_the_note_log_rings_once_until_it_is_read():
    from livejam.conversation.readouts import RollLog

    rang = []
    log = RollLog()
    log.on_change = lambda: rang.append(1)
    log.add(0.0, "you", 60, True)
    log.add(0.1, "livejam", 64, True)  # a burst: still one ring
    assert len(rang) == 1
    assert len(log.take()) == 2
    log.add(0.2, "you", 60, False)
    assert len(rang) == 2


@pytest.mark.asyncio
async def test_the_roll_rests_when_nothing_moves(tiny_model):
    clock = FakeClock(100.0)
    rig = NoMidiRig(LivejamConfig(record=False), "test", clock=clock, model=OnnxModel(tiny_model))
    app = LivejamApp(rig, start_rig=False)
    async with app.run_test(size=(80, 24)):
        roll = app.main("#roll")
        assert await until(lambda: roll.rebuilds > 0)
        assert roll.timer is None  # empty: no clock running
        before = roll.rebuilds
        rig.engine.roll.add(clock.now() - rig.engine.origin, "you", 60, True)
        rig.engine.roll.add(clock.now() - rig.engine.origin + 0.3, "you", 64, True)  # one doorbell for both
        assert await until(lambda: roll.rebuilds > before)
        assert roll.timer is not None  # a held note is in view: it moves a column at a time
        assert "█" in "".join(s.text for s in roll.strips)
        rig.engine.roll.add(clock.now() - rig.engine.origin + 0.5, "you", 60, False)
        rig.engine.roll.add(clock.now() - rig.engine.origin + 0.5, "you", 64, False)
        clock.advance(13.0)  # the notes have left the 12 s window
        roll.rebuild()
        assert roll.timer is None
        assert "█" not in "".join(s.text for s in roll.strips)
        assert app.countdown_timer is None  # waiting: no countdown either
