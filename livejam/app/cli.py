"""`livejam`: the command line. Runs without torch."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .. import __version__
from ..settings import config, settings_file
from ..model import vocab
from ..settings.config import LivejamConfig
from ..errors import LivejamError


def _config(a, use_settings: bool = False, notices: list[str] | None = None) -> LivejamConfig:
    from ..settings import settings_file

    d = settings_file.load() if use_settings else {}
    saved_model = d.get("model", "")
    for name, s in config.SETTINGS.items():
        v = getattr(a, name, None)
        if s.flag is None or v is None:
            continue
        if name == "ccs":
            d["ccs"] = config.remap(d.get("ccs", {}), _parse_ccs(v))  # over the saved mapping
        else:
            d[name] = v
    if getattr(a, "record_dir", None) and getattr(a, "record", None) is None:
        d["record"] = True  # naming where recordings go asks for them
    try:
        cfg = LivejamConfig.from_dict(d)
    except (TypeError, ValueError) as exc:
        raise LivejamError(str(exc)) from exc
    if cfg.model:
        from ..model.registry import resolve

        if cfg.model == saved_model and not Path(resolve(cfg.model)).is_file() and notices is not None:
            # The model kept from last time was deleted: start with the default, and say so.
            notices.append(f"the model you played last time ({saved_model}) is gone; playing the default "
                           f"(press n, or --model, for another)")
            cfg.model = ""
            return cfg
        cfg.model = str(resolve(cfg.model))  # a personal model's name, or a path
    return cfg


def _parse_ccs(items: list[str]) -> dict[str, int | str]:
    ccs: dict[str, int | str] = {}
    for item in items:
        name, _, num = item.partition("=")
        if num.strip().lower() == config.CC_OFF:
            ccs[name] = config.CC_OFF
        elif num.isdigit() and int(num) in config.LEARNABLE:
            ccs[name] = int(num)
        else:
            raise LivejamError(f"--cc takes NAME=NUMBER (0..119) or NAME=off, not {item!r}")
    return ccs


def _add_setting_flags(p, play: bool) -> None:
    """The flags for the settings table's fields (settings/config.py): every setting with a
    flag, on `play` all of them, elsewhere those that are not about ports or recording."""
    for name, s in config.SETTINGS.items():
        if s.flag is None or (s.play_only and not play):
            continue
        flag = s.flag or "--" + name.replace("_", "-")
        default = config.DEFAULTS[name]
        if name == "ccs":
            p.add_argument(flag, dest=name, action="append", metavar="NAME=NUMBER",
                           help=f"{s.help} ({', '.join(f'{k}={v}' for k, v in config.DEFAULT_CCS.items())})")
        elif name == "synth":
            p.add_argument(flag, dest=name, nargs="?", const="default", metavar="SF2",
                           help=f"{s.help} (--no-synth: off for this run)")
            p.add_argument("--no-synth", dest=name, action="store_const", const="", help=argparse.SUPPRESS)
        elif isinstance(default, list):
            p.add_argument(flag, dest=name, action="append", help=f"{s.help} (repeatable)")
        elif config.value_type(name) is bool:
            p.add_argument(flag, dest=name, action=argparse.BooleanOptionalAction, default=None,
                           help=f"{s.help} (default {'on' if default else 'off'})")
        else:
            shown = f" (default {default})" if default not in ("", None) else ""
            p.add_argument(flag, dest=name, type=_typed(s.parse) if s.parse else config.value_type(name),
                           help=s.help + shown)


def _typed(parse):
    """A setting's own parser for argparse: its ValueError is the one line argparse prints."""
    def typed(text: str):
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    return typed


def _info(a) -> None:
    from ..model.registry import resolve
    from ..model.onnx_model import OnnxModel

    model = OnnxModel(resolve(a.model or ""))
    print(json.dumps({"model": str(model.path), **model.metadata}, indent=2))


def _models(a) -> None:
    from ..model.registry import list_models, recommended, table

    print(table(list_models()))
    best = recommended()
    if best:
        print(f"\nyour model {best.name!r} predicts your held-out playing better than the default: "
              f"bin/livejam --model {best.name}")


def _recordings(a) -> None:
    from ..recording import recordings

    folder = recordings.folder_of(a.record_dir or settings_file.load().get("record_dir", ""))
    if a.action == "list":
        print(recordings.table(recordings.list_recordings(folder)))
        print(f"# {folder}")
        return
    if not a.name:
        raise LivejamError(f"recordings {a.action} takes a recording's name; `livejam recordings` lists them")
    path = recordings.find(a.name, folder)
    if a.action == "export":
        if not a.out:
            raise LivejamError("recordings export takes NAME and where to write it, e.g. `... export NAME take.mid`")
        print(recordings.export(path, Path(a.out), player_only=a.player_only))
        return
    if not a.yes:
        if not sys.stdin.isatty():
            raise LivejamError(f"deleting {path.name} cannot be undone; add --yes to confirm")
        if input(f"delete {path} for good? [y/N] ").strip().lower() not in ("y", "yes"):
            print("kept")
            return
    path.unlink()
    print(f"deleted {path}")


def _devices(a) -> None:
    from ..midi import system

    api, ins, outs = system.find_system(a.api or "")
    print(f"MIDI API: {system.in_words(api)}")
    print("inputs:" if ins else "inputs: none")
    for n in ins:
        print(f"  {n}")
    print("outputs:" if outs else "outputs: none")
    for n in outs:
        print(f"  {n}")


def _play(a) -> None:
    from ..errors import NoMidiSystem
    from .nomidi import NoMidiRig
    from .rig import LiveRig

    notices: list[str] = []
    cfg = _config(a, use_settings=True, notices=notices)
    if a.headless:
        from .headless import run_headless

        rig = LiveRig(cfg)
        rig.notices += notices
        rig.offer_later = _offer(cfg)
        rig.process_ends_on_stop = True
        sys.exit(run_headless(rig, as_json=a.json))
    try:
        rig = LiveRig(cfg)  # asked for no MIDI system, it finds ALSA or JACK (system.find_system)
    except NoMidiSystem as problem:
        rig = NoMidiRig(cfg, f"No MIDI system: {problem}. Meanwhile the computer keyboard plays into the model.")
    rig.notices += notices
    rig.offer_later = _offer(cfg)
    rig.process_ends_on_stop = True
    # The built-in synth is offered to whoever never chose it either way (flag or saved).
    rig.offer_synth = getattr(a, "synth", None) is None and "synth" not in settings_file.load()
    from .tui.app import LivejamApp

    LivejamApp(rig, save_settings=settings_file.update).run()
    if not rig.released:  # the screen is gone: said where the terminal shows it
        print(f"livejam: {rig.stopped_line()}", file=sys.stderr)


def _offer(cfg):
    """A personal model that beat the default is offered at start, never switched to
    unasked. Returns what finds the line (None: nothing to offer); the rig runs it on a
    thread once playing, since reading every model's card takes a moment per model."""
    if cfg.model:
        return None

    def find() -> str | None:
        from ..model.registry import recommended

        best = recommended()
        if best is None:
            return None
        return (f"Your personal model '{best.name}' predicts your playing better than the default: "
                f"press n to switch to it, or start with --model {best.name}.")

    return find


def _config_command(a) -> None:
    """See or change the kept settings explicitly (the other way, besides the screen)."""
    if a.action != "show" and a.name is None:
        raise LivejamError(f"config {a.action} takes a setting name; see `livejam config show`")
    if a.action == "show":
        kept = settings_file.load()
        for name in settings_file.PERSISTED:
            mark = "" if name in kept else "  (default)"
            print(f"{name} = {kept.get(name, config.DEFAULTS[name])!r}{mark}")
        print(f"# {settings_file.settings_path()}")
        return
    if a.action == "set":
        if a.value is None:
            raise LivejamError("config set takes a NAME and a VALUE, e.g. `livejam config set silence 1.2`")
        path = settings_file.update({a.name: settings_file.parse_value(a.name, a.value)})
        print(f"{a.name} = {settings_file.load(path)[a.name]!r} (kept in {path})")
    else:  # unset
        settings_file.update({}, drop=(a.name,))
        print(f"{a.name} back to its default, {config.DEFAULTS[a.name]!r}")


def _panic(a) -> None:
    """Release whatever sounds on a synth, whoever left it sounding."""
    from ..midi import system
    from ..midi.panic import send_to_ports

    api, _, outs = system.find_system(a.api or "")
    if a.out:
        targets = [outs[system.resolve(a.out, outs, "output")]]
    else:
        targets = [p for p in outs if not p.split(":")[0].startswith(system.CLIENT)]
    if not targets:
        raise LivejamError("no MIDI output to send the panic to; plug in the synth or name it with --out")
    channels = [a.channel - 1] if a.channel else list(range(16))
    reached = send_to_ports(api, set(targets), channels)
    where = f"channel {a.channel}" if a.channel else "all 16 channels"
    print(f"panic: every note off, sustain off, all sound off on {where} of {reached} port(s): {', '.join(targets)}")


def _respond(a) -> None:
    from ..offline.respond import read_call, respond, write_result

    cfg = _config(a)
    call = read_call(Path(a.call))
    answer = respond(call, cfg)
    print(write_result(call, answer, Path(a.output_file), Path(a.soundfont) if a.soundfont else None))


def _bench(a) -> None:
    from ..bench.runtime import run_bench

    print(json.dumps(run_bench(a.model or None, jack=a.jack, phrases=a.phrases, bars=a.bars, audio=a.audio,
                               audio_minutes=a.audio_minutes, jack_log=a.jack_log), indent=2))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="livejam", description="A real-time MIDI performance companion.")
    p.add_argument("--version", action="version", version=f"livejam {__version__} ({vocab.VOCAB_ID})")
    sub = p.add_subparsers(dest="cmd")

    pl = sub.add_parser("play", help="play a keyboard and hear the model answer (the default)")
    _add_setting_flags(pl, play=True)
    pl.add_argument("--headless", action="store_true", help="no screen: one line per phrase and answer")
    pl.add_argument("--json", action="store_true", help="with --headless: JSON lines")
    pl.set_defaults(func=_play)

    r = sub.add_parser("respond", help="answer a MIDI file offline")
    r.add_argument("call", help="the call, a .mid file")
    r.add_argument("-o", dest="output_file", required=True, help="answer.mid, or answer.wav for audio")
    r.add_argument("--soundfont", help="an .sf2 for WAV output (default: General MIDI from pretty_midi)")
    _add_setting_flags(r, play=False)
    r.set_defaults(func=_respond)

    d = sub.add_parser("devices", help="list MIDI input and output ports")
    d.add_argument("--api", choices=["alsa", "jack", "coremidi", "winmm"])
    d.set_defaults(func=_devices)

    i = sub.add_parser("info", help="show the model livejam would load: its shape, data and metrics")
    i.add_argument("--model", help="a model's name (see `models`) or an .onnx file (default: the shipped model)")
    i.set_defaults(func=_info)

    rc = sub.add_parser("recordings", help="list your recorded sessions; export or delete one")
    rc.add_argument("action", nargs="?", default="list", choices=["list", "export", "delete"])
    rc.add_argument("name", nargs="?", help="a recording's name (as listed)")
    rc.add_argument("out", nargs="?", help="export: the .mid file to write")
    rc.add_argument("--record-dir", help="the recordings folder (default: where livejam records)")
    rc.add_argument("--player-only", action="store_true", help="export: only your track, not livejam's answers")
    rc.add_argument("--yes", action="store_true", help="delete without asking")
    rc.set_defaults(func=_recordings)

    m = sub.add_parser("models", help="list the models to play with: the default and your personal ones")
    m.set_defaults(func=_models)

    c = sub.add_parser("config", help="show or change the settings livejam keeps between runs")
    c.add_argument("action", choices=["show", "set", "unset"])
    c.add_argument("name", nargs="?", choices=list(settings_file.PERSISTED), metavar="NAME")
    c.add_argument("value", nargs="?")
    c.set_defaults(func=_config_command)

    pn = sub.add_parser("panic", help="release every note on a synth (any channel), whoever left it sounding")
    pn.add_argument("--out", help="output port name or unique substring (default: every output port)")
    pn.add_argument("--api", choices=["alsa", "jack", "coremidi", "winmm"])
    pn.add_argument("--channel", type=int, choices=range(1, 17), metavar="1..16", help="only this channel")
    pn.set_defaults(func=_panic)

    b = sub.add_parser("bench", help="model step, engine cost and answer onset figures")
    b.add_argument("--model")
    b.add_argument("--jack", action="store_true", help="also measure end to end through a running JACK server")
    b.add_argument("--phrases", type=int, default=30)
    b.add_argument("--bars", action="store_true",
                   help="also measure answers against the bar line, following a MIDI clock through JACK")
    b.add_argument("--audio", action="store_true",
                   help="also measure the built-in synth through a running JACK server (onset, xruns, idle cost)")
    b.add_argument("--audio-minutes", type=float, default=10.0, help="the conversation's length for the xrun count")
    b.add_argument("--jack-log", help="jackd's output, to count the xruns it blames on livejam's clients")
    b.set_defaults(func=_bench)

    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in sub.choices and argv[0] not in ("-h", "--help", "--version")):
        argv.insert(0, "play")  # no command: play (the TUI), with any options given
    a = p.parse_args(argv)
    try:
        a.func(a)
    except LivejamError as exc:
        print(f"livejam: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
