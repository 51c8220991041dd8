"""The plan ahead (issue 35, item 2) on the fake clock: an answer's notes are
decided a beat ahead (0.5 s in free time), said as the plan before they sound,
and the notes then played are the notes planned; coming in cuts the plan."""
import mido
import pytest

from livejam.conversation.events import Interrupted, Planned


def plans(r):
    """(when said, [(start, pitch, seconds)]) of each plan, in clock times."""
    o = r.engine.origin
    return [(e.t + o, [(s + o, p, d) for s, p, d in e.notes]) for e in r.said if isinstance(e, Planned)]


def played(r):
    return [(t, m.note) for t, m in r.out.messages if m.type == "note_on" and m.velocity > 0]


def check_plans_come_true(r, ahead):
    """Every planned note is later played at its time with its pitch, and was planned
    at least as far ahead as the plan reaches (less for the answer's first notes)."""
    notes = played(r)
    total = kept = 0
    lead = []
    for said, plan in plans(r):
        for start, pitch, _ in plan:
            total += 1
            kept += any(abs(t - start) <= 0.002 and p == pitch for t, p in notes)
            lead.append(start - said)
    assert total >= 5 and kept == total, (kept, total)
    assert max(lead) >= 0.8 * ahead  # decided that far ahead (not only just before)
    return total


@pytest.mark.parametrize("tempo", [False, True])
def test_an_answers_notes_are_planned_ahead_and_then_played_as_planned(rig, tempo):
    r = rig(answer_seconds=4.0, silence=0.4, **({"bpm": 100, "answer_bars": 2} if tempo else {}))
    r.phrase((60, 64, 67, 72, 67, 64), each=0.3)
    r.run(8.0)
    assert r.out.hanging() == {}
    check_plans_come_true(r, 0.06 if tempo else 0.5)  # (in bars only the scheduling horizon, for now)


def test_coming_in_cuts_the_answer_and_its_plan_at_once(rig):
    r = rig(answer_seconds=6.0, silence=0.4)
    r.phrase((60, 62, 64, 65), each=0.25)
    r.run(1.5)  # into the answer
    assert any(p for _, p in plans(r))
    r.play("note_on", note=72, velocity=90)
    cut = [e for e in r.said if isinstance(e, (Planned, Interrupted))][-2:]
    assert isinstance(cut[0], Planned) and cut[0].notes == [] and isinstance(cut[1], Interrupted)
    assert r.engine.roll.plan == []
    r.play("note_off", note=72)


def test_the_plan_is_in_the_json_lines(rig):
    r = rig(answer_seconds=3.0, silence=0.4)
    r.phrase((60, 64, 67), each=0.3)
    r.run(1.0)
    d = next(e for e in r.said if isinstance(e, Planned) and e.notes).as_dict()
    assert d["event"] == "plan" and all(len(n) == 3 and 0 <= n[1] <= 127 and n[2] > 0 for n in d["notes"])


def test_accompany_shows_the_next_beat_a_beat_ahead_and_plays_it_while_it_fits(rig):
    r = rig(mode="accompany", role="bass", split=60, bpm=100)
    g = r.conv.grid()
    t0 = g.time(4.0) - 0.01
    for p in (48, 52, 55):  # a C chord held under nothing else: every plan fits
        r.engine.feed_midi(mido.Message("note_on", note=p, velocity=70), t0)
    r.run(g.time(12.0) - r.clock.now())
    acc = r.conv.accompanist
    assert acc.plans_made >= 7 and acc.plans_kept >= acc.plans_made - 1  # (the last beat's plan is not reached yet)
    o = r.engine.origin
    ons = [(t, m.note) for t, m in r.out.messages if m.type == "note_on" and m.velocity > 0]
    for said, plan in [(e.t + o, e.notes) for e in r.said if isinstance(e, Planned) and e.notes]:
        for start, pitch, _ in plan:
            assert start + o - said == pytest.approx(g.spb, abs=0.01)  # said a beat ahead
            if start + o < r.clock.now():
                assert any(abs(t - start - o) < 1e-6 and p == pitch for t, p in ons)  # and then played


def test_a_planned_beat_that_would_clash_with_what_you_strike_is_decided_afresh(rig):
    r = rig(mode="accompany", role="bass", bpm=100)
    g = r.conv.grid()
    r.engine.feed_midi(mido.Message("note_on", note=64, velocity=80), g.time(4.0) - 0.01)  # E4 held
    r.run(g.time(5.0) - 0.05 - r.clock.now())
    acc = r.conv.accompanist
    beat, planned, _ = acc.planned
    clash = next(m for m in range(70, 90) if all(abs(m - p) % 12 in (1, 2, 6, 10, 11) for p in planned))
    r.engine.feed_midi(mido.Message("note_on", note=clash, velocity=80), g.time(5.0) - 0.02)
    r.run(g.time(5.0) + 0.01 - r.clock.now())
    at_beat = [m.note for t, m in r.out.messages if m.type == "note_on" and m.velocity > 0 and abs(t - beat) < 1e-6]
    assert at_beat and at_beat != planned and acc.plans_kept == 0  # (the next beat is planned anew)
