"""The Textual app: a thin view given a ready rig (engine + ports). It reads the
engine's snapshot on an interval and posts commands to its queue; it never does
engine work and the engine never waits for it."""
from __future__ import annotations

import asyncio
import signal

import mido
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Header, RichLog, Static

from ..headless import WORDS
from . import piano
from .roll import COLOURS, PianoRoll

LENGTHS = (0.0, 2.0, 4.0, 8.0, 16.0)  # 0 = mirror the call

# (key, action, description, shown in the footer)
KEYS = [
    ("m", "mute", "Mute", True),
    ("p", "panic", "Panic", True),
    ("plus,equals_sign", "temperature(0.1)", "Temp +", True),
    ("minus", "temperature(-0.1)", "Temp -", True),
    ("l", "length", "Length", True),
    ("right_square_bracket", "silence(0.1)", "Silence +", True),
    ("left_square_bracket", "silence(-0.1)", "Silence -", True),
    ("o", "overlap", "Overlap", True),
    ("r", "record", "Record", True),
    ("c", "devices", "Devices", True),
    ("n", "models", "Model", True),
    ("q", "quit", "Quit", True),
    ("z", "octave(-1)", "Octave -", False),
    ("x", "octave(1)", "Octave +", False),
]


class LivejamApp(App):
    CSS_PATH = "livejam.tcss"
    TITLE = "livejam"
    BINDINGS = [Binding(k, a, d, show=s) for k, a, d, s in KEYS] + [
        Binding(k, f"play('{k}')", "", show=False) for k in piano.KEYS
    ] + [Binding("ctrl+c", "quit", "Quit", show=False, priority=True)]  # what a musician presses

    def __init__(self, rig, save_settings=None, start_rig: bool = True) -> None:
        super().__init__()
        self.rig = rig
        self.engine = rig.engine
        self.save_settings = save_settings
        self.start_rig = start_rig
        self.octave = 4
        self.last_events = 0

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
        yield RichLog(id="log", wrap=True, markup=False)
        yield Footer()

    def main(self, selector: str, kind=None):
        """A widget of the main screen, even while a dialog is on top of it (or
        while the app closes: the references outlive the screen's teardown)."""
        return self.widgets[selector]

    def on_mount(self) -> None:
        self.widgets = {f"#{n}": self.query_one(f"#{n}") for n in ("ports", "state", "roll", "controls", "figures", "log")}
        d = self.rig.describe()
        meta = self.engine.session.metadata
        self.sub_title = f"{self.engine.session.path.name}: {meta.get('summary', '')}"
        log = self.main("#log", RichLog)
        for note in self.rig.notes:
            log.write(note)
        if d["api"] == "none":
            log.write(f"Computer-keyboard piano: keys {piano.KEYS} play C to C, z/x change octave.")
        log.write(f"model loaded: {self.engine.session.path.name}")
        if self.start_rig:
            self.rig.start()
            # SIGTERM ends the app the orderly way, so every note is released.
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, self.exit)
        self.poll_timer = self.set_interval(0.1, self.poll_engine)
        self.poll_engine()

    def on_unmount(self) -> None:
        self.poll_timer.stop()
        if self.start_rig:
            self.rig.stop()
        if self.save_settings:
            self.save_settings(self.rig.cfg)

    # -- the view ------------------------------------------------------------
    def poll_engine(self) -> None:
        log = self.main("#log", RichLog)
        while not self.engine.events.empty():
            kind, data = self.engine.events.get()
            if kind == "model":
                self.sub_title = f"{data['path'].rsplit('/', 1)[-1]}: {data['summary']}"
                log.write(f"model loaded: {data['path']}")
            elif kind == "ports":
                log.write(f"ports: in {', '.join(data['inputs'])}, out {data['output']}")
            else:
                log.write(WORDS.get(kind, lambda d: f"{kind}: {d}")(data))
        self.refresh_panels()

    def refresh_panels(self) -> None:
        snap, cfg, d = self.engine.snapshot(), self.rig.cfg, self.rig.describe()
        if d["api"] == "none":  # say it where the eye lands, not only in the scrolling log
            self.main("#ports", Static).update(
                "[b]no MIDI system[/b] (see the log) · keys a w s e d f t g y h u j k play, z/x octave")
        else:
            self.main("#ports", Static).update(
                f"{d['api']}  in: {', '.join(d['inputs'])}  out: {d['output']}  "
                f"rec: {d['recording'] if snap['recording'] else 'off'}")
        state = snap["state"].upper()
        if snap["countdown"] is not None and snap["state"] == "listening":
            state += f"  answering in {snap['countdown']:.1f} s"
        self.main("#state", Static).update(state)
        self.main("#state").set_classes(snap["state"])
        length = "mirror call" if cfg.answer_seconds == 0 else f"{cfg.answer_seconds:g} s"
        self.main("#controls", Static).update(
            f"temperature  {cfg.temperature:.2f}\ntop-p        {cfg.top_p:.2f}\nanswer       {length}\n"
            f"silence      {cfg.silence:.1f} s\noverlap      {'on' if cfg.overlap else 'off'}\n"
            f"thru         {'on' if cfg.thru else 'off'}\nchannel      {cfg.channel}\n"
            f"octave (kbd) {self.octave}")
        events = snap["events_in"]
        rate, self.last_events = (events - self.last_events) * 10, events
        onset = lambda v: "-" if v is None else f"{v:.1f} ms"  # noqa: E731
        self.main("#figures", Static).update(
            f"[{COLOURS['you']}]█[/] you  [{COLOURS['livejam']}]█[/] livejam\n"
            f"step p50/p99 {snap['step_ms_p50']:.2f}/{snap['step_ms_p99']:.2f} ms\n"
            f"onset last   {onset(snap['onset_ms_last'])}\nonset p95    {onset(snap['onset_ms_p95'])}\n"
            f"events/s     {rate}\nlate events  {snap['late']}\nanswers      {snap['answers']}")

    # -- actions: each posts a command to the engine -----------------------
    def action_mute(self) -> None:
        self.engine.command("mute", not self.rig.cfg.muted)

    def action_panic(self) -> None:
        self.engine.command("panic")

    def action_temperature(self, delta: float) -> None:
        self.engine.command("temperature", round(min(2.0, max(0.1, self.rig.cfg.temperature + delta)), 2))

    def action_silence(self, delta: float) -> None:
        self.engine.command("silence", round(min(3.0, max(0.2, self.rig.cfg.silence + delta)), 2))

    def action_length(self) -> None:
        now = self.rig.cfg.answer_seconds
        nxt = LENGTHS[(LENGTHS.index(now) + 1) % len(LENGTHS)] if now in LENGTHS else 0.0
        self.engine.command("answer_length", nxt)

    def action_overlap(self) -> None:
        self.engine.command("overlap", not self.rig.cfg.overlap)

    def action_record(self) -> None:
        self.engine.command("record")

    def action_octave(self, delta: int) -> None:
        self.octave = min(8, max(0, self.octave + delta))

    def action_play(self, key: str) -> None:
        pitch = piano.pitch_for(key, self.octave)
        if pitch is None or pitch > 127:
            return
        self.engine.feed_midi(mido.Message("note_on", note=pitch, velocity=piano.VELOCITY))
        self.set_timer(piano.NOTE_SECONDS, lambda: self.engine.feed_midi(mido.Message("note_off", note=pitch)))

    def action_devices(self) -> None:
        from .screens import DeviceScreen

        self.push_screen(DeviceScreen(self.rig))

    def action_models(self) -> None:
        from .screens import ModelScreen

        self.push_screen(ModelScreen(self.engine))

    def get_system_commands(self, screen):
        yield from super().get_system_commands(screen)
        for _, action, title, _shown in KEYS:
            if title and action != "quit":
                yield SystemCommand(f"livejam: {title}", f"the {title.lower()} control",
                                    lambda a=action: self.run_action(a))
