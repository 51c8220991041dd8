"""Soak: many calls in a row, on the fake clock (two thousand) and through JACK (fifty):
memory, threads, open files and onset stay flat; every note is balanced."""
import os
import tracemalloc

import mido
import pytest

from livejam.midi import system
from livejam.bench.loopback import Loopback
from livejam.midi.sounding import hanging
from tests.jack import judge_releases


class Balance:
    """An output that keeps only how many notes it saw and which still sound."""

    name = "balance"

    def __init__(self) -> None:
        self.notes, self.hanging = 0, {}

    def send(self, msg) -> None:
        if msg.type in ("note_on", "note_off"):
            k = (msg.channel, msg.note)
            on = msg.type == "note_on" and msg.velocity > 0
            self.notes += on
            self.hanging[k] = self.hanging.get(k, 0) + (1 if on else -1)
            if self.hanging[k] <= 0:
                del self.hanging[k]

    def close(self) -> None:
        pass


def test_two_thousand_calls_on_the_fake_clock_leave_memory_flat_and_every_note_balanced(rig):
    r = rig(answer_seconds=0.5, silence=0.2)
    sink = r.engine.scheduler.output = Balance()  # keeps a running balance, not every message
    pitches = [(60, 64), (62, 65, 69), (67,), (72, 71, 69, 67)]

    def calls(n):
        for i in range(n):
            r.phrase(pitches[i % 4], each=0.1)
            r.run(0.8)
            r.said.clear()

    # Warm until every bounded record the engine keeps (the note log, the send
    # lateness, the step times) is full: what grows after that is a leak.
    bounded = [r.engine.roll.entries, r.engine.scheduler.lateness, r.engine.model.step_seconds]
    warm = 0
    while warm < 4000 and any(len(d) < d.maxlen for d in bounded):
        calls(100)
        warm += 100
    assert all(len(d) == d.maxlen for d in bounded), "answers too sparse to fill the engine's records"
    calls(900)  # allocator caches and arenas settle (their growth slows and stops; a leak's does not)
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    calls(900)
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(s.size_diff for s in after.compare_to(before, "filename") if "tracemalloc" not in str(s.traceback))
    assert r.engine.answers == warm + 1800
    assert sink.notes > 5000 and sink.hanging == {}
    assert grown < 256 * 1024, f"the heap grew {grown} bytes over 900 calls"


def last_state(lj) -> str | None:
    states = [e["state"] for e in lj.events if e["event"] == "state"]
    return states[-1] if states else None


def process_figures(pid: int, record_dir) -> dict:
    """Memory, threads and open files. Left out: the recording's own file (its
    writer thread may be rewriting it at the moment of looking) and JACK's
    semaphores (libjack opens one per client it signals, lazily, as the server
    orders its graph). CI once saw one fd more at call 49 than at call 9."""
    with open(f"/proc/{pid}/status") as f:
        rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))
    fds = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            fds.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            pass  # closed while we looked
    kept = [f for f in fds if not f.startswith((str(record_dir), "/dev/shm/jack_sem."))]
    return {"rss_kb": rss, "threads": len(os.listdir(f"/proc/{pid}/task")), "fds": len(kept), "open": sorted(kept)}


@pytest.mark.usefixtures("jack_server")
def test_fifty_calls_through_jack_stay_flat(api, livejam, tmp_path):
    lj = livejam("--virtual", "--answer-seconds", "0.3", "--silence", "0.2", "--record-dir", str(tmp_path))
    lb = Loopback(api, system.VIRTUAL_IN, system.VIRTUAL_OUT)
    pid = lj.proc.pid
    try:
        seen, lifted_again = [], []
        for i in range(50):
            call = [60 + i % 12, 64 + i % 5]
            lb.play(call, each=0.05)
            if not lj.wait_event("answer", 5, count=i + 1) and last_state(lj) == "listening":
                # livejam still counts a key down: the server lost a note-off on the
                # way in (the dummy driver drops a late client's period). Lifting the
                # keys again is what a player would do; a lost note-off that stops the
                # conversation for good is issue 19's case, not this soak's.
                lifted_again.append(i)
                for p in call:
                    lb.send(mido.Message("note_off", note=p))
            assert lj.wait_event("answer", 10, count=i + 1), f"call {i} was not answered: {lj.events[-5:]}"
            if i in (9, 49):
                seen.append(process_figures(pid, tmp_path))
        onsets = [e["onset_ms"] for e in lj.events if e["event"] == "answer"]
        lb.wait_for(lambda: hanging(lb.messages()) == {}, 5)
        lj.stop()
        heard = lb.messages()
    finally:
        lb.close()
        lj.stop()
    judge_releases(tmp_path, heard)
    early, late = seen
    assert len(lifted_again) <= 2, f"note-offs lost on the way in after calls {lifted_again}"
    new_files = sorted(set(late["open"]) - set(early["open"]))
    assert late["threads"] == early["threads"] and late["fds"] == early["fds"], (early["threads"], late["threads"], new_files)
    assert late["rss_kb"] - early["rss_kb"] < 8 * 1024, (early["rss_kb"], late["rss_kb"])
    first, last = sorted(onsets[:10])[5], sorted(onsets[-10:])[5]
    assert last < first + 5.0, (first, last)  # livejam's own decision -> send stays where it was


def test_a_three_hour_session_writes_each_phrase_at_the_cost_of_that_phrase(tiny_model, tmp_path):
    """The recording appends what is new: the write at hour 3 is the size of the
    write at hour 0 (a rewrite of the session would be ~500 times it by then); the
    wall times are printed for the record (`livejam bench` has them too), not judged."""
    from livejam.bench.long_session import long_session, summary
    from livejam.model.onnx_model import OnnxModel
    from livejam.recording.recordings import tracks

    rows = long_session(OnnxModel(tiny_model), tmp_path, hours=3.0, every=30.0)
    s = summary(rows)
    print(s)
    assert s["hours"] > 2.95 and all(r["write_bytes"] > 0 for r in rows)
    assert s["last_hour_write_bytes"] <= 1.5 * s["hour0_write_bytes"]
    assert max(r["write_bytes"] for r in rows) < 4096
    (path,) = tmp_path.glob("*.mid")
    parts = tracks(path)  # compacted at the end: the two tracks, every call in the player's
    assert sum(1 for _, m in parts["player"] if m.type == "note_on") == 8 * len(rows)
    assert hanging(parts["player"]) == {} and hanging(parts["livejam"]) == {}
