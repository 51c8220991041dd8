"""What a command does: from the TUI, the command line, or a mapped CC. Runs on
the engine thread (the engine hands every Command and every mapped CC here), so
it may touch the conversation and the model state directly."""
from __future__ import annotations

import threading
from pathlib import Path

import mido

from ..settings import config
from ..model import vocab
from ..model.encoder import PEDAL_CC as PEDAL
from .events import ModelLoaded, Notice, Panicked, Problem, SettingChanged


class Controls:
    def __init__(self, engine) -> None:
        self.engine = engine
        self.last: dict[int, int] = {}  # CC number -> the value it last sent (a trigger fires on the rising edge)
        self.learning: str | None = None  # MIDI learn: the control the next moved knob or pedal is mapped to
        self.splitting = False  # learning the split: the next key struck is where the right hand begins
        self.split_key: int | None = None  # that key, until it is let go (its release is not played either)

    def from_cc(self, msg: mido.Message) -> bool:
        """A mapped CC changes a setting (or fires an action) instead of reaching the
        model; while learning, the first CC moved is mapped instead."""
        cfg = self.engine.cfg
        if self.learning is not None and msg.control in config.LEARNABLE and msg.control != PEDAL:
            self._learned(msg)
            return True
        name = next((n for n, number in cfg.ccs.items() if number == msg.control), None)
        before = self.last.get(msg.control)
        self.last[msg.control] = msg.value
        if name is None:
            return False
        value = config.from_cc(name, msg.value)
        if before is not None and config.from_cc(name, before) == value:
            return True  # a knob's sweep past the threshold once, or a value that did not change, acts once
        if isinstance(config.CONTROLS[name], config.Action):
            if value:  # a trigger acts on press, not on release
                self.apply(name)
        else:
            self.apply(name, value)
        return True

    def split_learned(self, msg: mido.Message) -> bool:
        """While learning the split, the key struck sets it (and is not played)."""
        if msg.type == "note_on" and msg.velocity > 0 and self.splitting:
            self.splitting, self.split_key = False, msg.note
            self._set("split", msg.note, self.engine.clock.now())
            self.engine.emit(Notice, message=split_line(msg.note) + " (H to learn again, H twice for no split)")
            return True
        if msg.type in ("note_on", "note_off") and msg.note == self.split_key:
            self.split_key = None
            return True
        return False

    def _learned(self, msg: mido.Message) -> None:
        eng, name = self.engine, self.learning
        self.learning = None
        eng.cfg.ccs = config.remap(eng.cfg.ccs, {name: msg.control})
        self.last[msg.control] = msg.value  # the move that taught it does not also act
        eng.emit(SettingChanged, name="ccs", value=dict(eng.cfg.ccs))

    def _learn(self, name, off: bool = False) -> None:
        eng = self.engine
        if name is not None and name not in config.CONTROLS:
            eng.emit(Problem, message=f"no control {name!r} to map; known: {', '.join(config.CONTROLS)}")
        elif off:
            self.learning = None
            eng.cfg.ccs = {**eng.cfg.ccs, name: config.CC_OFF}
            eng.emit(SettingChanged, name="ccs", value=dict(eng.cfg.ccs))
        else:
            self.learning = name  # None: stop learning

    def apply(self, name: str, value=None) -> None:
        eng = self.engine
        now = eng.clock.now()
        conv = eng.conversation
        conv.discard_upcoming()  # sampled with the old settings
        if name == "panic":
            conv.panic(now)
            eng.scheduler.panic(eng.channels())
            eng.keyboards.clear()
            eng.beats_out.rewind()  # the clock and the clicks it dropped are scheduled again
            eng.emit(Panicked)
        elif name == "prime":
            self._prime(value)
        elif name == "primed":
            path, tokens, notes = value
            conv.style.feed(tokens)
            eng.emit(Notice, message=primed_line(path, notes, eng.cfg.adapt))
        elif name == "keyboards_left":
            for msg in eng.keyboards.left(set(value)):  # what only they held ends, as if they let go
                eng.played(msg, now)
        elif name == "phrase_end":
            conv.end_phrase_now(now)
        elif name == "forget":
            notes = conv.style.size
            conv.style.reset()
            plural = "" if notes == 1 else "s"
            eng.emit(Notice, message=f"adaptation starts afresh: forgot the {notes} note{plural} heard so far")
        elif name == "record":
            was = eng.recording
            eng.recording = eng.recorder is not None and (bool(value) if value is not None else not eng.recording)
            if was and not eng.recording:
                eng.recorder.close_held(now)  # paused mid-note: what sounds ends in the file here
            eng.emit(SettingChanged, name="record", value=eng.recording)
        elif name == "learn":
            self._learn(value)
        elif name == "learn_split":
            self.splitting = value is not False
            if self.splitting:
                eng.emit(Notice, message="press the key where your right hand begins (H again: no split)")
        elif name == "unmap":
            self._learn(value, off=True)
        elif name == "model":
            self._load_model(value)
        elif name == "model_ready":
            self._switch_model(value)
        elif name in config.SETTINGS and config.SETTINGS[name].live:
            self._set(name, value, now)
        else:
            eng.emit(Problem, message=f"unknown command {name!r}")

    def _set(self, name: str, value, now: float) -> None:
        eng, cfg = self.engine, self.engine.cfg
        if value is None and config.value_type(name) is bool:
            value = not getattr(cfg, name)  # no value: toggle
        try:
            value = config.coerce(name, value)
        except (TypeError, ValueError) as exc:
            eng.emit(Problem, message=str(exc))
            return
        setattr(cfg, name, value)
        if name == "thru" and not value:
            eng.scheduler.cancel("thru")  # keys held now would never get their note-off through
        if name == "thru" and value:
            eng.echoes.reset()  # turned on again: the loop, if it was one, is mended
        eng.sampler.temperature, eng.sampler.top_p = cfg.temperature, cfg.top_p
        eng.conversation.phrases.silence = cfg.silence
        if name in ("phrase_rule", "silence"):
            eng.conversation.judge_gap()  # changed while a call waits
        if name == "muted" and value:
            eng.conversation.interrupt(now)
            eng.conversation.accompanist.stop()
        elif name == "mode" and value != "accompany":
            eng.conversation.accompanist.stop()  # silent at once, every note released
        eng.emit(SettingChanged, name=name, value=value)

    def _load_model(self, path) -> None:
        """Load a model off the engine thread (it takes a while): the old one keeps
        playing meanwhile, and keeps playing if the new one is refused."""
        from ..errors import LivejamError
        from ..model.onnx_model import OnnxModel

        eng = self.engine

        def load() -> None:
            try:
                model = OnnxModel(path)
                model.step(vocab.time_shift(1), model.initial_state(1))  # one step before it may play
            except LivejamError as exc:
                eng.emit(Problem, message=str(exc))
                return
            except Exception as exc:  # noqa: BLE001 - loads, then fails to run: whatever ONNX Runtime raises
                eng.emit(Problem, message=f"{Path(path).name} loads but fails on its first step "
                                          f"({type(exc).__name__}: {str(exc).splitlines()[0][:100]}); "
                                          f"still playing {eng.model.path.name}")
                return
            eng.command("model_ready", model)

        if eng.running:
            threading.Thread(target=load, name="livejam-model-load", daemon=True).start()
        else:
            load()  # no engine thread (offline, tests): the pump picks the result up

    def _prime(self, path) -> None:
        """Read a file's notes off the engine thread (a long file takes a while), then feed them."""
        from ..errors import LivejamError
        from .adaptation import primer

        eng = self.engine

        def load() -> None:
            try:
                tokens, notes = primer(path)
            except LivejamError as exc:
                eng.emit(Problem, message=str(exc))
                return
            eng.command("primed", (path, tokens, notes))

        if eng.running:
            threading.Thread(target=load, name="livejam-prime", daemon=True).start()
        else:
            load()

    def _switch_model(self, model) -> None:
        """Between phrases or mid-answer: release what sounds, start afresh on the new model."""
        eng = self.engine
        eng.conversation.interrupt(eng.clock.now())
        eng.conversation.accompanist.stop()
        eng.listener.reset(model)
        eng.emit(ModelLoaded, path=str(model.path), summary=model.metadata.get("summary", ""))


def primed_line(path, notes: int, adapt: float) -> str:
    """What priming says: how much was learned, and when it will not be heard."""
    off = "; adapt is 0, so it is heard once you turn adapt up" if adapt <= 0 else ""
    return f"live adaptation primed with {notes} notes of {Path(path).name} (F forgets them){off}"


def split_line(split: int) -> str:
    return f"split at {config.note_name(split)}: below it your left hand holds the harmony, not part of the call"


def starting_lines(engine) -> list[str]:
    """What the start says of the settings a player would otherwise not see headless."""
    cfg, lines = engine.cfg, []
    if engine.primed:
        lines.append(primed_line(cfg.prime, engine.primed, cfg.adapt))
    if cfg.split:
        lines.append(split_line(cfg.split))
    return lines
