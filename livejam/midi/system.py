"""The MIDI system behind python-rtmidi: which API (ALSA, JACK, CoreMIDI, WinMM),
its clients, its ports by name or unique substring, and what it cannot do (WinMM
has no virtual ports). Every rtmidi error here becomes one LivejamError line."""
from __future__ import annotations

import contextlib
import os
import re
import sys
import threading

from ..errors import LivejamError, NoMidiSystem

CLIENT = "livejam"
VIRTUAL_IN, VIRTUAL_OUT = "livejam in", "livejam out"
# A JACK client name of livejam's: its MIDI clients (JACK numbers a second one) and the synth's.
LIVEJAM_CLIENT = re.compile(rf"{CLIENT}(-synth)?(-\d+)?$")


def rtmidi_module():

    import rtmidi

    return rtmidi


def api_id(name: str) -> int:
    rt = rtmidi_module()
    table = {"alsa": rt.API_LINUX_ALSA, "jack": rt.API_UNIX_JACK, "coremidi": rt.API_MACOSX_CORE,
             "winmm": rt.API_WINDOWS_MM}
    if not name:
        name = "coremidi" if sys.platform == "darwin" else "winmm" if sys.platform.startswith("win") else "alsa"
    if name not in table:
        raise LivejamError(f"unknown MIDI API {name!r}; choose one of: {', '.join(table)}")
    if table[name] not in rt.get_compiled_api():
        have = ", ".join(rt.get_api_name(a) for a in rt.get_compiled_api()) or "none"
        raise LivejamError(f"this python-rtmidi was built without {name} (it has: {have}); use --api with one of those")
    return table[name]


def api_name(api: int) -> str:
    return rtmidi_module().get_api_name(api)


_hush = threading.Lock()  # fd 2 is the process's: its hushing is counted across threads
_hushed = 0
_saved_fd: int | None = None


@contextlib.contextmanager
def quiet_stderr():
    """ALSA's and JACK's C libraries print their own lines when no server is
    there; we say it once, in our words, so hush file descriptor 2 meanwhile. Threads
    may overlap (the synth's audio opening while a port opens): the first to come
    hushes it, the last to go gives it back, so stderr never stays silenced."""
    global _hushed, _saved_fd
    with _hush:
        if _hushed == 0:
            try:
                _saved_fd = os.dup(2)
                with open(os.devnull, "w") as null:
                    os.dup2(null.fileno(), 2)
            except OSError:
                _saved_fd = None
        _hushed += 1
    try:
        yield
    finally:
        with _hush:
            _hushed -= 1
            if _hushed == 0 and _saved_fd is not None:
                os.dup2(_saved_fd, 2)
                os.close(_saved_fd)
                _saved_fd = None


def client(kind: str, api: int, name: str = CLIENT):
    rt = rtmidi_module()
    try:
        with quiet_stderr():
            return (rt.MidiIn if kind == "in" else rt.MidiOut)(rtapi=api, name=name)
    except rt.RtMidiError as exc:
        raise NoMidiSystem(no_midi_system_message(api, exc)) from exc


def close_port(midi, api: int) -> None:
    """Unregister an rtmidi client's port; on JACK, once the server has finished
    with the graph's last changes (jack_settle.py: unregistering in the middle of
    one can crash libjack)."""
    if api_name(api) == "jack":
        from .jack_settle import settle

        settle()
    midi.close_port()


def close_client(midi, api: int, process_ends: bool = False) -> None:
    """Close an rtmidi client, its port first. When this process is about to end,
    a JACK client is left for the end to take, with no unregistering at all: the
    server drops a client whose process ended, ports and connections with it (as
    after kill -9), and a quitting livejam does not wait on the graph."""
    if process_ends and api_name(api) == "jack":
        import ctypes

        ctypes.pythonapi.Py_IncRef(ctypes.py_object(midi))  # never freed: its C++ destructor would unregister
        return
    close_port(midi, api)  # (an rtmidi client with no port open makes it a no-op)
    midi.delete()


def pipewire_running() -> bool:
    """A PipeWire server for this user (what most Linux desktops run): its socket,
    where libpipewire looks for it (PIPEWIRE_RUNTIME_DIR, else XDG_RUNTIME_DIR;
    PIPEWIRE_REMOTE names it)."""
    if not sys.platform.startswith("linux"):
        return False
    base = os.environ.get("PIPEWIRE_RUNTIME_DIR") or os.environ.get("XDG_RUNTIME_DIR")
    return bool(base) and os.path.exists(os.path.join(base, os.environ.get("PIPEWIRE_REMOTE", "pipewire-0")))


def in_words(api: int) -> str:
    """The MIDI system, as the start line and `devices` say it: on a PipeWire
    desktop, ALSA's sequencer is what PipeWire bridges into its graph."""
    name = api_name(api)
    if name == "alsa" and pipewire_running():
        return "alsa (the ALSA sequencer, which PipeWire bridges: PipeWire and JACK apps see these ports)"
    return name


def no_midi_system_message(api: int, exc: Exception | None = None) -> str:
    name = api_name(api)
    if name == "jack" and pipewire_running():
        # python-rtmidi's wheel carries JACK2's own libjack (python_rtmidi.libs), which
        # speaks only to jackd: PipeWire's JACK (its own libjack) is out of its reach.
        return ("no JACK server for MIDI: PipeWire runs here, and python-rtmidi's JACK (JACK2's own libjack, in "
                "its wheel) cannot reach PipeWire's JACK; leave out --api jack to use the ALSA sequencer, which "
                "PipeWire bridges, or run jackd")
    if name == "jack":
        return "no JACK server is running; start one (e.g. `jackd -d dummy` or QjackCtl) or use --api alsa"
    if name == "alsa":
        return "no ALSA sequencer (/dev/snd/seq is missing: `sudo modprobe snd-seq`, or in a container use --api jack with a JACK server)"
    return f"the {name} MIDI system is not available ({exc})"


def list_ports(api: int) -> tuple[list[str], list[str]]:
    i, o = client("in", api, CLIENT + "-list"), client("out", api, CLIENT + "-list")
    try:
        return i.get_ports(), o.get_ports()
    finally:
        i.delete()
        o.delete()


def find_system(name: str = "") -> tuple[int, list[str], list[str]]:
    """(api, input ports, output ports) of the MIDI system asked for by name; asked
    for none, the platform's own and then a running JACK server (on Linux a machine
    often has JACK without an ALSA sequencer). NoMidiSystem says why neither works."""
    api = api_id(name)
    try:
        return (api, *list_ports(api))
    except NoMidiSystem as first:
        if name or api_name(api) == "jack" or api_id("jack") not in rtmidi_module().get_compiled_api():
            raise
        try:
            jack = api_id("jack")
            return (jack, *list_ports(jack))
        except (NoMidiSystem, LivejamError) as second:
            raise NoMidiSystem(f"{first}; and {second}") from None


def resolve(wanted: str, available: list[str], what: str) -> int:
    """Index of the port named `wanted`, or of the one port whose name contains it."""
    if wanted in available:
        return available.index(wanted)
    hits = [i for i, n in enumerate(available) if wanted.lower() in n.lower()]
    if len(hits) == 1:
        return hits[0]
    listed = "; ".join(available) or "none"
    if not hits:
        raise LivejamError(f"no MIDI {what} port matches {wanted!r} (ports: {listed}); see `livejam devices`")
    raise LivejamError(f"{wanted!r} matches several {what} ports ({'; '.join(available[i] for i in hits)}); give more of the name")


def virtual_supported(api: int) -> bool:
    return api_name(api) != "winmm"
