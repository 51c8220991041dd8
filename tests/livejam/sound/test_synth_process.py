"""The synth's own process keeps what it made while starting (modules, the
SoundFont, the synth, its audio client) out of the cyclic garbage collector's
walk: a full collection over them took ~6 ms on the build machine, more than a
256-frame period, and Python runs one inside the audio callback when its
allocation counts say so. child() itself, in a fresh interpreter (the collector's
state is the whole process's), with the audio faked and livejam already gone."""
import json
import subprocess
import sys

SCRIPT = r"""
import gc, json, os
from livejam.sound import live, synth_process

made = {}

class Audio:
    names = ["fake:out"]
    def close(self):
        pass

def open_audio(make_output, on_lost=None, name="", audio="", on_fault=None):
    made["output"] = Audio.output = make_output(48000)
    return Audio()

live.open_audio = open_audio
start = len(gc.get_objects())
read, write = os.pipe()
os.close(write)  # livejam has gone: child() plays nothing, closes and returns
code = synth_process.child({"programs": {}, "soundfont": None, "volume": 1.0, "board": -1, "name": "x",
                            "audio": "null"}, read)
in_sight = gc.get_objects()
print(json.dumps({"code": code, "before": start, "after": len(in_sight),
                  "frozen": gc.get_freeze_count(),
                  "synth_in_sight": any(o is made["output"].synth for o in in_sight)}))
"""


def test_the_start_up_is_out_of_the_collectors_walk():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["code"] == 0
    assert got["before"] > 10_000  # what a full collection would walk without it
    assert got["frozen"] > 10_000
    assert got["after"] < got["before"] / 10  # what one walks now: made since
    assert not got["synth_in_sight"]  # the synth and its SoundFont, made with the audio, frozen too
