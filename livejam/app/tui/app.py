"""The Textual app: a thin view given a ready rig (engine + ports). The engine
tells it what happened (its events arrive as posted messages) and it posts
commands back; it never does engine work and the engine never waits for it.

Idle, it does nothing: panels change when their values do, the piano roll when
a note starts or ends or the window moves a column, the countdown only while
listening, the figures once a second and only if they changed; with a tempo,
bar:beat ten times a second, redrawn only when the beat moves."""
from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
import time
from pathlib import Path

import mido
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Footer, Header, RichLog, Static

from ...settings import config
from .. import stopping
from ..stopping import StopRequests
from ...conversation.events import (Event, ModelLoaded, Planned, PortBack, PortLost, PortsChanged, SettingChanged,
                                    StateChanged)
from . import piano
from .roll import COLOURS, PianoRoll

COUNTDOWN_SECONDS = 0.1  # how often the "answering in" countdown moves while listening
FIGURES_SECONDS = 1.0
TEMPO_SECONDS = 0.1  # how often bar:beat is looked at, with a tempo
HANGUP_GRACE = 2.0  # seconds Textual gets to exit after livejam stopped on a hangup
# A change on screen is saved this long after the last one (a knob turned is one
# write, not forty), so a crash or kill -9 loses no more than this of a soundcheck.
SAVE_SECONDS = 1.0
LOG_LINES = 500  # the log keeps the newest lines: a long night does not grow it for ever


def setting_bindings() -> list[Binding]:
    """Keys from the settings table: two keys step a number down/up, one toggles or cycles."""
    out = [Binding(a.keys[0], f"act('{a.name}')", a.title) for a in config.ACTIONS if a.keys]
    for name, s in config.SETTINGS.items():
        title = s.short or s.label.capitalize() or name
        if len(s.keys) == 2:
            out += [Binding(s.keys[0], f"step('{name}', -1)", f"{title} -"),
                    Binding(s.keys[1], f"step('{name}', 1)", f"{title} +")]
        elif s.keys:
            out.append(Binding(s.keys[0], f"change('{name}')", title))
    return out


class LivejamApp(App):
    CSS_PATH = "livejam.tcss"
    TITLE = "livejam"
    BINDINGS = setting_bindings() + [
        Binding("c", "devices", "Devices"),
        Binding("n", "models", "Model"),
        Binding("i", "learn", "Learn CC"),
        Binding("P", "prime", "Prime"),  # shift+p
        Binding("H", "split", "Split"),  # shift+h: the next key struck sets it
        Binding("S", "synth", "Synth"),  # shift+s: every lower-case letter plays or steers
        Binding("q", "quit", "Quit"),
        Binding("z", "octave(-1)", "Octave -", show=False),
        Binding("x", "octave(1)", "Octave +", show=False),
    ] + [Binding(k, f"play('{k}')", "", show=False) for k in piano.KEYS] + [
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True)]  # what a musician presses

    class EngineEvent(Message):
        def __init__(self, event: Event) -> None:
            super().__init__()
            self.event = event

    def __init__(self, rig, save_settings=None, start_rig: bool = True) -> None:
        super().__init__()
        self.rig = rig
        self.engine = rig.engine
        self.save_settings = save_settings
        self.start_rig = start_rig
        self.octave = 4
        self.last_events = 0
        self.last_activity = None
        self.last_rate = 0
        self.countdown_timer = None
        self.asked: set[str] = set()  # settings this screen asked the engine to change
        self.splitting = False  # H pressed: waiting for the key that sets the split
        self.changed: dict = {}  # ...and what they became: all that is saved on quit
        self.unmounted = threading.Event()  # livejam stopped in order (on_unmount)
        self.stop_requests: StopRequests | None = None  # Windows' console stops (stopping.py)
        self.save_timer = None  # the debounced save of what changed on screen

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield Static(id="ports")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield Static(id="state")
                yield PianoRoll(self.engine, id="roll")
            with Vertical(id="right"):
                yield Static(id="controls")
                yield Static(id="figures")
        yield RichLog(id="log", wrap=True, markup=False, max_lines=LOG_LINES)
        yield Footer()

    def main(self, selector: str, kind=None):
        """A widget of the main screen, even while a dialog is on top of it (or
        while the app closes: the references outlive the screen's teardown)."""
        return self.widgets[selector]

    def on_mount(self) -> None:
        self.widgets = {f"#{n}": self.query_one(f"#{n}") for n in ("ports", "state", "roll", "controls", "figures", "log")}
        meta = self.engine.model.metadata
        self.sub_title = f"{self.engine.model.path.name}: {meta.get('summary', '')}"
        log = self.main("#log", RichLog)
        for note in self.rig.notices:
            log.write(note)
        if self.rig.describe()["api"] == "none":
            log.write(f"Computer-keyboard piano: keys {piano.KEYS} play C to C, z/x change octave.")
        log.write(f"model loaded: {self.engine.model.path.name}")
        self.engine.subscribe(self._from_engine)
        if self.start_rig:
            self.rig.start()
            loop = asyncio.get_running_loop()
            if stopping.windows():
                # Windows: Ctrl-Break and the console window closing quit as `q` does (the loop
                # takes no signal handlers there); the close waits for on_unmount's releases.
                self.stop_requests = StopRequests(lambda: loop.call_soon_threadsafe(self.exit)).install()
            elif sys.platform != "win32":
                # kill (SIGTERM) and the terminal closing (SIGHUP) quit as `q` does: every note released.
                loop.add_signal_handler(signal.SIGTERM, self.exit)
                loop.add_signal_handler(signal.SIGHUP, self._hung_up)
        self.show_ports()
        self.show_state(self.engine.conversation.state)
        self.show_controls()
        self.show_figures()
        self.figures_timer = self.set_interval(FIGURES_SECONDS, self.show_figures)
        # With a tempo the bar:beat moves: four looks a beat at most (nothing repaints unless it changed).
        self.tempo_timer = (self.set_interval(TEMPO_SECONDS, lambda: self._countdown(self.engine.conversation.state))
                            if self.engine.tempo is not None else None)

    def _hung_up(self) -> None:
        """The terminal closed: quit as `q` does. Textual's output thread can die on the
        dead terminal, and its shutdown then waits for it for ever (seen about once in
        seven hangups): once livejam has stopped in order (on_unmount: every note
        released, settings saved), the process goes after HANGUP_GRACE regardless."""
        def leave() -> None:
            self.unmounted.wait()
            time.sleep(HANGUP_GRACE)  # a daemon thread: a Textual that exits in time ends it first
            os._exit(0)

        threading.Thread(target=leave, name="livejam-hangup", daemon=True).start()
        self.exit()

    def on_unmount(self) -> None:
        self.figures_timer.stop()
        if self.tempo_timer is not None:
            self.tempo_timer.stop()
        if self.countdown_timer is not None:
            self.countdown_timer.stop()
        if self.start_rig:
            self.rig.stop()
        if self.save_timer is not None:
            self.save_timer.stop()
        self._save_now()
        self.unmounted.set()
        if self.stop_requests is not None:
            self.stop_requests.released()
            self.stop_requests.restore()

    def _save_soon(self) -> None:
        """Save what changed on screen once the changes pause (debounced; the file
        is replaced whole, never half-written: settings_file.update)."""
        if self.save_timer is not None:
            self.save_timer.stop()
        self.save_timer = self.set_timer(SAVE_SECONDS, self._save_now)

    def _save_now(self) -> None:
        self.save_timer = None
        if self.save_settings and self.changed:
            self.save_settings(dict(self.changed))

    # -- what the engine says ------------------------------------------------
    def _from_engine(self, event: Event) -> None:
        # On the engine's (or scheduler's) thread: only hand it over.
        self.post_message(self.EngineEvent(event))

    def on_livejam_app_engine_event(self, message: EngineEvent) -> None:
        ev = message.event
        if isinstance(ev, StateChanged):
            self.show_state(ev.state)
            return
        if isinstance(ev, ModelLoaded):
            self.sub_title = f"{ev.path.rsplit('/', 1)[-1]}: {ev.summary}"
            if "model" in self.asked:
                self.changed["model"] = ev.path
                self._save_soon()
        if isinstance(ev, SettingChanged):
            self.show_controls()
            if ev.name in self.asked and (ev.name not in config.SETTINGS or config.SETTINGS[ev.name].screen_saves):
                self.changed[ev.name] = ev.value
                self._save_soon()
            if ev.name == "split":
                self.splitting = False
            if ev.name == "ccs" and hasattr(self.screen, "mapped"):
                self.screen.mapped()
        if isinstance(ev, (PortsChanged, PortLost, PortBack)) or (isinstance(ev, SettingChanged)
                                                                 and ev.name in ("record", "synth")):
            self.show_ports()
        if not isinstance(ev, Planned):  # the plan shows on the roll, not in the log
            self.main("#log", RichLog).write(ev.words())

    # -- the view ------------------------------------------------------------
    def show_ports(self) -> None:
        d = self.rig.describe()
        if d["api"] == "none":  # say it where the eye lands, not only in the scrolling log
            text = "[b]no MIDI system[/b] (see the log) · keys a w s e d f t g y h u j k play, z/x octave"
        else:
            text = (f"{d['api']}  in: {', '.join(d['inputs'])}  out: {d['output']}  "
                    f"synth: {'on' if getattr(self.rig, 'audio', None) else 'off'}  "
                    f"rec: {d['recording'] if self.engine.recording else 'off'}")
        self.main("#ports", Static).update(text)

    def show_state(self, state: str) -> None:
        box = self.main("#state", Static)
        box.set_classes(state)
        self._countdown(state)
        if state == "listening" and self.countdown_timer is None:
            self.countdown_timer = self.set_interval(COUNTDOWN_SECONDS, lambda: self._countdown("listening"))
        elif state != "listening" and self.countdown_timer is not None:
            self.countdown_timer.stop()
            self.countdown_timer = None

    def _countdown(self, state: str) -> None:
        text = state.upper()
        left = self.engine.conversation.countdown(self.engine.clock.now()) if state == "listening" else None
        if left is not None:
            text += f"  answering in {left:.1f} s"
        if self.engine.tempo is not None:
            text += "\n" + self.tempo_text()
        self._update("#state", text)

    def tempo_text(self) -> str:
        """The tempo, where the music is (bar:beat) and where the tempo comes from."""
        tempo = self.engine.tempo
        pos = self.engine.position()
        bpm = f"{tempo.bpm:.1f} BPM" if tempo.bpm else "-- BPM"
        where = "free time" if not pos else "bar ? (no Start yet)" if pos[0] is None else f"bar {pos[0]}:{int(pos[1])}"
        return f"{bpm}  {where}  {tempo.source}"

    def show_controls(self) -> None:
        cfg = self.rig.cfg
        lines = [f"{s.label:<12} {config.shown(n, getattr(cfg, n))}" for n, s in config.SETTINGS.items() if s.label]
        self._update("#controls", "\n".join(lines + [f"{'octave (kbd)':<12} {self.octave}"]))

    def show_figures(self) -> None:
        activity = self.engine.figures.activity()
        if activity == self.last_activity and self.last_rate == 0:
            return  # nothing played, stepped or sent since the last look, and events/s already shows 0
        self.last_activity = activity
        f = self.engine.figures.read()
        rate = self.last_rate = round((f["events_in"] - self.last_events) / FIGURES_SECONDS)
        self.last_events = f["events_in"]
        onset = lambda v: "-" if v is None else f"{v:.1f} ms"  # noqa: E731
        self._update("#figures",
                     f"[{COLOURS['you']}]█[/] you  [{COLOURS['livejam']}]█[/] livejam  [{COLOURS['plan']}]░[/] next\n"
                     f"step p50/p99 {f['step_ms_p50']:.2f}/{f['step_ms_p99']:.2f} ms\n"
                     f"onset last   {onset(f['onset_ms_last'])}\nonset p95    {onset(f['onset_ms_p95'])}\n"
                     f"events/s     {rate}\nlate events  {f['late']}\nanswers      {f['answers']}\n"
                     f"style notes  {f['style_notes']}")

    def _update(self, selector: str, text: str) -> None:
        """Change a panel only when its text changes: an unchanged update still repaints."""
        widget = self.main(selector, Static)
        old = getattr(widget, "shown_text", None)
        if old != text:
            widget.shown_text = text
            # A new layout only when the panel's height may change: a layout pass costs more than the draw.
            widget.update(text, layout=old is None or old.count("\n") != text.count("\n"))

    # -- actions: each posts a command to the engine -----------------------
    def ask(self, name: str, value=None) -> None:
        self.asked.add(name)
        self.engine.command(name, value)

    def action_step(self, name: str, direction: int) -> None:
        s = config.SETTINGS[name]
        value = getattr(self.rig.cfg, name) + direction * s.step
        # Within the valid range, not a CC's sweep: a saved 10 s silence steps to 10.1, not down to 3.
        self.ask(name, round(min(s.hi, max(s.lo, value)), 2))

    def action_change(self, name: str) -> None:
        s, now = config.SETTINGS[name], getattr(self.rig.cfg, name)
        if s.choices:
            nxt = s.choices[(s.choices.index(now) + 1) % len(s.choices)] if now in s.choices else s.choices[0]
            self.ask(name, nxt)
        else:
            self.ask(name)  # a switch: the engine toggles it

    def action_act(self, name: str) -> None:
        self.engine.command(name)

    def action_octave(self, delta: int) -> None:
        self.octave = min(8, max(0, self.octave + delta))
        self.show_controls()

    def action_play(self, key: str) -> None:
        pitch = piano.pitch_for(key, self.octave)
        if pitch is None or pitch > 127:
            return
        self.engine.feed_midi(mido.Message("note_on", note=pitch, velocity=piano.VELOCITY))
        self.set_timer(piano.NOTE_SECONDS, lambda: self.engine.feed_midi(mido.Message("note_off", note=pitch)))

    def action_split(self) -> None:
        """H: the next key struck on the keyboard sets the split; H again while it waits: no split."""
        self.asked.add("split")
        self.splitting = not self.splitting
        self.engine.command("learn_split", self.splitting)
        if not self.splitting:
            self.ask("split", 0)

    def action_synth(self) -> None:
        """The built-in synth on or off (opening audio takes a moment: not on the UI thread)."""
        self.asked.add("synth")
        self.run_worker(self.rig.toggle_synth, thread=True, exclusive=True, group="synth")

    def action_devices(self) -> None:
        from .screens import DeviceScreen

        self.push_screen(DeviceScreen(self.rig))

    def action_learn(self) -> None:
        from .screens import LearnScreen

        self.push_screen(LearnScreen(self.engine))

    def action_models(self) -> None:
        from .screens import ModelScreen

        self.push_screen(ModelScreen(self.engine))

    def action_prime(self) -> None:
        from .screens import PrimeScreen

        from ...recording.recorder import default_dir

        folder = Path(self.rig.cfg.record_dir) if self.rig.cfg.record_dir else default_dir()
        now = self.rig.recorder.path if self.rig.recorder else None  # tonight's, still being written
        found = [p for p in folder.glob("*.mid") if p != now] if folder.is_dir() else []
        self.push_screen(PrimeScreen(self.engine, sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)[:20]))

    def get_system_commands(self, screen):
        yield from super().get_system_commands(screen)
        for b in self.BINDINGS:
            if b.show and b.action != "quit":
                yield SystemCommand(f"livejam: {b.description}", f"the {b.description.lower()} control",
                                    lambda a=b.action: self.run_action(a))
