"""Pick ports and models, prime a style, map knobs while playing: the engine keeps running underneath."""
from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, SelectionList

from ...settings import config
from ..port_switch import switch_ports


VIRTUAL = "(virtual port: livejam in / livejam out)"


def model_choices() -> list[tuple[Path, str]]:
    """(path, label) of every model that can be played: the default, then personal ones, newest first."""
    from ...model.registry import list_models

    out = []
    for m in list_models():
        if m.problem:
            continue
        better = "" if not m.heldout else ("  [better on your playing]" if m.beats_base else "  [not better than its base]")
        out.append((m.path, f"{m.name} ({m.kind}, {m.created}): {m.about}{better}"))
    return out


class DeviceScreen(ModalScreen):
    BINDINGS = [("escape", "dismiss", "Back")]

    def __init__(self, rig) -> None:
        super().__init__()
        self.rig = rig

    def compose(self) -> ComposeResult:
        ins, outs = self.rig.port_names()
        current = set(self.rig.cfg.inputs)
        with Vertical(id="dialog"):
            yield Label("Inputs (space to tick; none ticked = virtual input)")
            yield SelectionList(*[(n, n, n in current) for n in ins], id="inputs")
            yield Label("Output")
            yield OptionList(VIRTUAL, *outs, id="output")
            yield Button("Use these", id="apply", variant="primary")
            if self.rig.api is None:
                yield Label("No MIDI system here: nothing to pick. The computer keyboard plays.")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        inputs = list(self.query_one("#inputs", SelectionList).selected)
        ol = self.query_one("#output", OptionList)
        out = None
        if ol.highlighted is not None and ol.highlighted > 0:
            out = str(ol.get_option_at_index(ol.highlighted).prompt)
        if self.rig.api is not None:
            try:
                switch_ports(self.rig, inputs, out)
                self.app.changed.update(inputs=list(inputs), output=out or "")
            except Exception as exc:  # a port that went away between listing and opening
                self.app.main("#log").write(f"could not switch ports: {exc}")
        self.dismiss()


class ModelScreen(ModalScreen):
    """The models to switch to. Reading each model's card opens it under ONNX
    Runtime (a moment per model): done on a thread, so the screen and the music
    never wait for it; the list fills in when it is read."""

    BINDINGS = [("escape", "dismiss", "Back")]

    def __init__(self, engine) -> None:
        super().__init__()
        self.engine = engine
        self.choices: list[tuple[Path, str]] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Models: the default and yours (bin/train personal); Enter switches, between notes",
                        id="models-hint")
            yield OptionList(id="models")

    def on_mount(self) -> None:
        self.query_one("#models-hint", Label).update("reading your models...")
        self.run_worker(self._find, thread=True)

    def _find(self) -> None:
        choices = model_choices()
        self.app.call_from_thread(self._show, choices)

    def _show(self, choices) -> None:
        self.choices = choices
        ol = self.query_one("#models", OptionList)
        ol.add_options([label for _, label in choices])
        ol.highlighted = 0 if choices else None
        ol.focus()
        self.query_one("#models-hint", Label).update(
            "Models: the default and yours (bin/train personal); Enter switches, between notes")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.app.ask("model", str(self.choices[event.option_index][0]))
        self.dismiss()


class PrimeScreen(ModalScreen):
    """Prime live adaptation with a MIDI file's notes (`--prime` while playing): a
    path typed, or one of your own recorded sessions (newest first)."""

    BINDINGS = [("escape", "dismiss", "Back")]

    def __init__(self, engine, recordings: list[Path]) -> None:
        super().__init__()
        self.engine, self.recordings = engine, recordings

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Prime a style: a MIDI file's notes, learned as if you had played them (F forgets)",
                        id="prime-hint")
            yield Input(placeholder="path to a .mid file, then Enter", id="prime-path")
            yield OptionList(*[p.name for p in self.recordings], id="prime-sessions")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self._prime(Path(event.value.strip()).expanduser())

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self._prime(self.recordings[event.option_index])

    def _prime(self, path: Path) -> None:
        self.engine.command("prime", str(path))  # read off the engine thread; said on the log
        self.dismiss()


class LearnScreen(ModalScreen):
    """MIDI learn: pick a control, then move a knob or press a pedal to map it;
    Delete removes a control's mapping. Kept in the settings on quit."""

    BINDINGS = [("escape", "dismiss", "Back"), ("delete", "unmap", "Remove"), ("backspace", "unmap", "Remove")]

    def __init__(self, engine) -> None:
        super().__init__()
        self.engine = engine
        self.names = list(config.CONTROLS)

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("MIDI learn: Enter on a control, then move a knob or press a pedal; Delete removes it",
                        id="learn-hint")
            yield OptionList(*self.lines(), id="learn")

    def lines(self) -> list[str]:
        ccs = self.engine.cfg.ccs
        return [f"{name:<15} {'CC ' + str(ccs[name]) if ccs.get(name, config.CC_OFF) != config.CC_OFF else '-'}"
                for name in self.names]

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        name = self.names[event.option_index]
        self.app.asked.add("ccs")
        self.engine.command("learn", name)
        self.query_one("#learn-hint", Label).update(f"{name}: move a knob or press a pedal now (Escape: cancel)")

    def action_unmap(self) -> None:
        ol = self.query_one("#learn", OptionList)
        if ol.highlighted is not None:
            self.app.asked.add("ccs")
            self.engine.command("unmap", self.names[ol.highlighted])

    def mapped(self) -> None:
        """The engine changed the map (learned or removed): show it."""
        ol = self.query_one("#learn", OptionList)
        at = ol.highlighted
        ol.clear_options()
        ol.add_options(self.lines())
        ol.highlighted = at
        self.query_one("#learn-hint", Label).update("mapped. Enter on another control, or Escape")

    def on_unmount(self) -> None:
        self.engine.command("learn", None)  # leaving stops listening for a knob
