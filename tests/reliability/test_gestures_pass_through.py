"""Every gesture the player makes passes through and is recorded, and is put back
on every exit path: pitch bend, channel and poly aftertouch, the mod wheel,
expression, the soft and sostenuto pedals (engine on a fake clock, a recording
fake output; the watchdog's keeper as it would see them go out). They used to be
dropped ("not part of the conversation"), and the end-of-session compaction
dropped the bends that were on disk."""
import mido

from livejam.midi.files import read_tracks
from livejam.midi.watchdog_process import Keeper
from livejam.recording.recorder import SessionRecorder

PLAYED = [mido.Message("pitchwheel", pitch=2000), mido.Message("aftertouch", value=50),
          mido.Message("polytouch", note=60, value=40), mido.Message("control_change", control=1, value=64),
          mido.Message("control_change", control=11, value=90), mido.Message("control_change", control=67, value=127),
          mido.Message("control_change", control=66, value=127)]
BACK = {("pitchwheel", 0), ("aftertouch", 0), ("polytouch", 0), ("cc1", 0), ("cc11", 127), ("cc66", 0), ("cc67", 0)}


def what(m: mido.Message):
    if m.type == "pitchwheel":
        return ("pitchwheel", m.pitch)
    if m.type == "control_change":
        return (f"cc{m.control}", m.value)
    if m.type in ("aftertouch", "polytouch"):
        return (m.type, m.value)
    return None


def play_gestures(r) -> None:
    r.play("note_on", note=60, velocity=80)
    for m in PLAYED:
        r.play(m.type, **{k: v for k, v in m.dict().items() if k not in ("type", "time", "channel")})
    r.run(0.05)


def test_with_thru_every_gesture_passes_and_turning_thru_off_puts_each_back(rig):
    r = rig(thru=True)
    play_gestures(r)
    sent = [m for _, m in r.out.messages]
    assert [m for m in sent if m.type != "note_on"] == PLAYED  # as played, in order
    before = len(r.out.messages)
    r.engine.command("thru", False)
    r.run(0.05)
    back = {what(m) for _, m in r.out.messages[before:]} - {None}
    assert BACK <= back  # the bend centred, pressure and the wheels and pedals at rest
    assert r.out.hanging() == {}


def test_a_panic_puts_back_what_thru_left_moved(rig):
    r = rig(thru=True)
    play_gestures(r)
    before = len(r.out.messages)
    r.engine.command("panic")
    r.run(0.05)
    back = {what(m) for _, m in r.out.messages[before:]} - {None}
    assert BACK <= back and r.out.hanging() == {}


def test_gestures_are_recorded_and_the_compacted_file_keeps_them(tmp_path):
    from livejam.timing.wallclock import FakeClock

    clock = FakeClock(0.0)
    rec = SessionRecorder(tmp_path, clock)
    rec.player(mido.Message("note_on", note=60, velocity=80), 0.0)
    for k, m in enumerate(PLAYED):
        rec.player(m, 0.1 + 0.1 * k)
    rec.player(mido.Message("note_off", note=60), 1.0)
    path = rec.close()  # flushed, then compacted to two tracks
    kept = [m for _, m in read_tracks(path)["player"] if m.type not in ("note_on", "note_off")]
    assert kept == PLAYED


def test_the_watchdog_puts_back_the_gestures_of_a_livejam_that_died():
    keeper = Keeper()
    keeper.saw(bytes(mido.Message("note_on", note=60, velocity=80).bytes()))
    for m in PLAYED:
        keeper.saw(bytes(m.bytes()))
    back = {what(mido.Message.from_bytes(b)) for b in keeper.release()} - {None}
    assert BACK <= back


def test_a_gesture_put_back_by_the_player_is_not_put_back_again(rig):
    r = rig(thru=True)
    r.play("pitchwheel", pitch=3000)
    r.play("pitchwheel", pitch=0)  # the wheel springs back
    r.play("control_change", control=67, value=127)
    r.play("control_change", control=67, value=0)
    r.run(0.05)
    before = len(r.out.messages)
    r.engine.command("thru", False)
    r.run(0.05)
    assert not [m for _, m in r.out.messages[before:] if m.type == "pitchwheel" or
                (m.type == "control_change" and m.control == 67)]
