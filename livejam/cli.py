"""`livejam`: the command line. Runs without torch."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import __version__, vocab
from .config import DEFAULT_CCS, LivejamConfig
from .errors import LivejamError


def _config(a, use_settings: bool = False) -> LivejamConfig:
    from . import settings

    d = settings.load() if use_settings else {}
    for key in ("model", "api", "output", "channel", "temperature", "top_p", "seed", "silence", "answer_seconds",
                "record_dir"):
        v = getattr(a, key, None)
        if v is not None:
            d[key] = v
    if getattr(a, "inputs", None):
        d["inputs"] = a.inputs
    for flag in ("virtual", "thru", "overlap"):
        if getattr(a, flag, False):
            d[flag] = True
    if getattr(a, "no_record", False):
        d["record"] = False
    if getattr(a, "cc", None):
        ccs = dict(DEFAULT_CCS)
        for item in a.cc:
            name, _, num = item.partition("=")
            if not num.isdigit() or not 0 <= int(num) <= 127:
                raise LivejamError(f"--cc takes NAME=NUMBER with a number 0..127, not {item!r}")
            ccs[name] = int(num)
        d["ccs"] = ccs
    try:
        return LivejamConfig.from_dict(d)
    except ValueError as exc:
        raise LivejamError(str(exc)) from exc


def _info(a) -> None:
    from .session import DEFAULT_MODEL, ModelSession

    sess = ModelSession(a.model or DEFAULT_MODEL)
    print(json.dumps({"model": str(sess.path), **sess.metadata}, indent=2))


def _devices(a) -> None:
    from . import ports

    api = ports.api_id(a.api or "")
    ins, outs = ports.list_ports(api)
    print(f"MIDI API: {ports.api_name(api)}")
    print("inputs:" if ins else "inputs: none")
    for n in ins:
        print(f"  {n}")
    print("outputs:" if outs else "outputs: none")
    for n in outs:
        print(f"  {n}")


def _play(a) -> None:
    from .errors import NoMidiSystem
    from .live import LiveRig, OfflineRig

    cfg = _config(a, use_settings=True)
    if a.headless:
        from .headless import run_headless

        sys.exit(run_headless(LiveRig(cfg), as_json=a.json))
    try:
        rig = LiveRig(cfg)
    except NoMidiSystem as first:
        rig, problem = None, str(first)
        if not a.api:  # nothing asked for: try JACK before giving up on MIDI
            try:
                cfg.api = "jack"
                rig = LiveRig(cfg)
            except NoMidiSystem as second:
                cfg.api = ""
                problem = f"{first}; and {second}"
        if rig is None:
            rig = OfflineRig(cfg, f"No MIDI system: {problem}. Meanwhile the computer keyboard plays into the model.")
    from . import settings
    from .tui.app import LivejamApp

    LivejamApp(rig, save_settings=settings.save).run()


def _respond(a) -> None:
    from .respond import read_call, respond, write_result

    cfg = _config(a)
    call = read_call(Path(a.call))
    answer = respond(call, cfg)
    print(write_result(call, answer, Path(a.output_file), Path(a.soundfont) if a.soundfont else None))


def _bench(a) -> None:
    from .bench import run_bench

    print(json.dumps(run_bench(a.model or None, jack=a.jack, phrases=a.phrases), indent=2))


def _add_engine_options(p) -> None:
    p.add_argument("--model", help="an .onnx model (default: the shipped one)")
    p.add_argument("--channel", type=int, help="answer MIDI channel 1..16 (default 1)")
    p.add_argument("--temperature", type=float, help="sampling temperature (default 0.9)")
    p.add_argument("--top-p", dest="top_p", type=float, help="nucleus sampling mass (default 0.95)")
    p.add_argument("--seed", type=int, help="make answers reproducible")
    p.add_argument("--silence", type=float, help="seconds of quiet that end a phrase (default 0.8)")
    p.add_argument("--answer-seconds", dest="answer_seconds", type=float,
                   help="fixed answer length (default: mirror the call, 2..16 s)")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="livejam", description="A real-time MIDI performance companion.")
    p.add_argument("--version", action="version", version=f"livejam {__version__} ({vocab.VOCAB_ID})")
    sub = p.add_subparsers(dest="cmd")

    pl = sub.add_parser("play", help="play a keyboard and hear the model answer (the default)")
    _add_engine_options(pl)
    pl.add_argument("--api", choices=["alsa", "jack", "coremidi", "winmm"], help="MIDI backend (Linux default: alsa)")
    pl.add_argument("--in", dest="inputs", action="append", help="input port name or unique substring (repeatable)")
    pl.add_argument("--out", dest="output", help="output port name or unique substring")
    pl.add_argument("--virtual", action="store_true", help="create 'livejam in' / 'livejam out' ports")
    pl.add_argument("--thru", action="store_true", help="pass the player's notes through to the output")
    pl.add_argument("--overlap", action="store_true", help="keep answering when the player comes back in")
    pl.add_argument("--record-dir", dest="record_dir", help="where session recordings go")
    pl.add_argument("--no-record", action="store_true", help="do not record the session")
    pl.add_argument("--cc", action="append", metavar="NAME=NUMBER",
                    help=f"map a live control to a CC ({', '.join(f'{k}={v}' for k, v in DEFAULT_CCS.items())})")
    pl.add_argument("--headless", action="store_true", help="no screen: one line per phrase and answer")
    pl.add_argument("--json", action="store_true", help="with --headless: JSON lines")
    pl.set_defaults(func=_play)

    r = sub.add_parser("respond", help="answer a MIDI file offline")
    r.add_argument("call", help="the call, a .mid file")
    r.add_argument("-o", dest="output_file", required=True, help="answer.mid, or answer.wav for audio")
    r.add_argument("--soundfont", help="an .sf2 for WAV output (default: General MIDI from pretty_midi)")
    _add_engine_options(r)
    r.set_defaults(func=_respond)

    d = sub.add_parser("devices", help="list MIDI input and output ports")
    d.add_argument("--api", choices=["alsa", "jack", "coremidi", "winmm"])
    d.set_defaults(func=_devices)

    i = sub.add_parser("info", help="show the model livejam would load: its shape, data and metrics")
    i.add_argument("--model", help="an .onnx file (default: the shipped model in exported/)")
    i.set_defaults(func=_info)

    b = sub.add_parser("bench", help="model step, engine cost and answer onset figures")
    b.add_argument("--model")
    b.add_argument("--jack", action="store_true", help="also measure end to end through a running JACK server")
    b.add_argument("--phrases", type=int, default=30)
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
