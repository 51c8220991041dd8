"""`livejam`: the command line. Runs without torch."""
from __future__ import annotations

import argparse
import json
import sys

from . import __version__, vocab
from .errors import LivejamError


def _info(a) -> None:
    from .session import DEFAULT_MODEL, ModelSession

    sess = ModelSession(a.model or DEFAULT_MODEL)
    print(json.dumps({"model": str(sess.path), **sess.metadata}, indent=2))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="livejam", description="A real-time MIDI performance companion.")
    p.add_argument("--version", action="version", version=f"livejam {__version__} ({vocab.VOCAB_ID})")
    sub = p.add_subparsers(dest="cmd")
    i = sub.add_parser("info", help="show the model livejam would load: its shape, data and metrics")
    i.add_argument("--model", help="an .onnx file (default: the shipped model in exported/)")
    i.set_defaults(func=_info)
    a = p.parse_args(argv)
    if not a.cmd:
        p.print_help()
        return
    try:
        a.func(a)
    except LivejamError as exc:
        sys.exit(f"livejam: {exc}")


if __name__ == "__main__":
    main()
