"""The built-in synth on a running rig (sound/ holds the synth itself): on at start
with --synth or the saved setting, switched on and off from the TUI (`S`), and
offered once when nobody listens to livejam's MIDI output and the machine has an
audio device: a musician with only a keyboard and headphones hears the answer
without learning MIDI routing first."""
from __future__ import annotations

import re
import threading
import time
from pathlib import Path

from ..conversation.events import Notice, Problem, SettingChanged
from ..errors import LivejamError
from ..midi import system
from ..midi.system import quiet_stderr

OFFER_AFTER = 3.0  # seconds after start: a DAW or a patchbay that reconnects livejam out has done so by then
ALSA_CLIENTS = Path("/proc/asound/seq/clients")  # the ALSA sequencer's clients, ports and subscriptions
KEY = "S"  # the TUI's key (shift+s: every lower-case letter already plays or steers)


def attach(rig) -> bool:
    """The synth beside the MIDI output (a tap on the scheduler's wire), in a process
    of its own (sound/synth_link.py), its audio through JACK or the default
    device. No sound device is one line, and livejam goes on over MIDI. Returns
    whether it sounds."""
    rig.audio = None
    cfg = rig.cfg
    if not cfg.synth:
        return False
    from ..sound.synth_link import open_synth

    font = None if cfg.synth == "default" else cfg.synth
    programs = {"answer": cfg.answer_program - 1, "accompany": cfg.answer_program - 1, "thru": cfg.thru_program - 1}
    try:
        rig.audio = open_synth(font, rig.clock, cfg.synth_volume, programs, on_lost=lambda line: _lost(rig, line),
                               on_fault=lambda line: rig.engine.emit(Problem, message=line))
    except LivejamError as exc:
        rig.notices.append(f"built-in synth off: {exc}")
        return False
    rig.engine.scheduler.taps.append(rig.audio.output)
    via = getattr(rig.audio, "via", "")
    rig.notices.append(f"built-in synth: {', '.join(rig.audio.names)}" + (f" ({via})" if via else ""))
    return True


def _lost(rig, line: str) -> None:
    """The audio went away (on the audio system's thread): said once; the tap comes
    off the wire (nothing piles up for a device that takes no more), MIDI goes on."""
    audio = getattr(rig, "audio", None)
    if audio is not None and audio.output in rig.engine.scheduler.taps:
        rig.engine.scheduler.taps.remove(audio.output)
    rig.engine.emit(Problem, message=line)


def detach(rig) -> None:
    """The synth's voices off and its audio closed. On quit this comes first, before
    the MIDI ports wind down (closing a JACK MIDI port waits for a server cycle, and
    the synth's process callback needs the interpreter the closing thread holds:
    JACK would time the audio client out, half a second of stale sound)."""
    audio = getattr(rig, "audio", None)
    if audio is not None:
        rig.audio = None
        taps = rig.engine.scheduler.taps
        if audio.output in taps:
            taps.remove(audio.output)
        audio.output.close()
        time.sleep(0.03)  # a few blocks: the silence sounds before the audio stops
        audio.close()


def toggle(rig) -> None:
    """On if off, off if on (the TUI's key, run on a thread: opening audio takes a
    moment). Says what happened, and the screen saves the choice."""
    audio = getattr(rig, "audio", None)
    if audio is not None and audio.output not in rig.engine.scheduler.taps:
        detach(rig)  # its device went away: S opens the audio again
        audio = None
    if audio is not None:
        detach(rig)
        if rig.cfg.synth != "default":
            rig.soundfont = rig.cfg.synth  # your SoundFont again when switched back on
        rig.cfg.synth = ""
        rig.engine.emit(SettingChanged, name="synth", value="")
        return
    rig.cfg.synth = rig.cfg.synth or getattr(rig, "soundfont", "") or "default"
    before = len(rig.notices)
    if attach(rig):
        rig.engine.emit(SettingChanged, name="synth", value=rig.cfg.synth)
        rig.engine.emit(Notice, message=rig.notices[-1])
    else:
        line = rig.notices[-1] if len(rig.notices) > before else "built-in synth off"
        rig.cfg.synth = ""
        rig.engine.emit(Problem, message=line)


# -- the first-run offer ---------------------------------------------------------
def offer_line(rig) -> str | None:
    """The offer, when livejam's output is its own virtual port, nobody is known to
    listen to it, and there is an audio device to play through; else None."""
    if getattr(rig, "audio", None) is not None or rig.cfg.output:
        return None  # playing already, or a named synth or DAW port gets the answers
    listening = 0 if rig.api is None else listeners(rig.api, rig.output.name)  # no MIDI system: nobody
    if listening or not has_audio(rig.api):
        return None
    who = "nothing is connected to livejam out" if listening == 0 else "if nothing plays livejam out"
    return f"{who}: press {KEY} (shift+s) to hear the answers through livejam's own synth"


def offer_in_background(rig) -> None:
    def run() -> None:
        time.sleep(OFFER_AFTER)
        try:
            line = offer_line(rig)
        except Exception:  # noqa: BLE001 - asking the system is a courtesy: never an error for the player
            return
        if line and getattr(rig, "audio", None) is None:
            rig.engine.emit(Notice, message=line)

    threading.Thread(target=run, name="livejam-synth-offer", daemon=True).start()


def listeners(api: int, port: str) -> int | None:
    """How many ports read livejam's output `port`: through JACK's graph, or the
    ALSA sequencer's subscriptions; None where the system does not say (CoreMIDI
    and WinMM: python-rtmidi has no call for a port's connections)."""
    name = system.api_name(api)
    if name == "jack":
        return _jack_listeners(port)
    if name == "alsa" and ALSA_CLIENTS.is_file():
        return alsa_listeners(ALSA_CLIENTS.read_text(errors="replace"))
    return None


def _jack_listeners(port: str) -> int | None:
    try:
        import jack

        client = jack.Client("livejam-look", no_start_server=True)
    except Exception:  # noqa: BLE001 - no JACK-Client, no libjack, or no server
        return None
    try:
        mine = [p for p in client.get_ports(is_midi=True, is_output=True)
                if p.name == port or p.name.endswith(":" + system.VIRTUAL_OUT)]
        return sum(len(client.get_all_connections(p)) for p in mine) if mine else None
    finally:
        client.close()


def alsa_listeners(clients: str, port: str = system.VIRTUAL_OUT) -> int | None:
    """From /proc/asound/seq/clients: how many ports subscribe to livejam's port
    `port` (listed under it as "Connecting To: 129:0, 130:0"); None: no such port."""
    count, client, inside = None, "", False
    for line in clients.splitlines():
        if m := re.match(r'Client\s+\d+\s*:\s*"(.*)"', line):
            client, inside = m.group(1), False
        elif m := re.match(r'\s+Port\s+\d+\s*:\s*"(.*)"', line):
            inside = client.startswith(system.CLIENT) and m.group(1) == port
            count = (count or 0) if inside else count
        elif inside and line.strip().startswith("Connecting To:"):
            count += sum(1 for c in line.split(":", 1)[1].split(",") if c.strip())
    return count


def has_audio(api: int) -> bool:
    """A sound device to play through: JACK's playback ports, else the default device's backends."""
    if api is not None and system.api_name(api) == "jack":
        try:
            import jack

            client = jack.Client("livejam-look", no_start_server=True)
            try:
                return bool(client.get_ports(is_physical=True, is_input=True, is_audio=True))
            finally:
                client.close()
        except Exception:  # noqa: BLE001
            pass
    try:
        import miniaudio

        with quiet_stderr():
            return bool(miniaudio.Devices().get_playbacks())
    except Exception:  # noqa: BLE001 - no library, no backend, no device
        return False
