"""Settings that persist between runs: a TOML file in the user config directory.
The command line overrides them for one run; the TUI saves only what the player
changed on screen."""
from __future__ import annotations

import tomllib
from pathlib import Path

from .config import SETTINGS, LivejamConfig
from ..errors import LivejamError

# What a player tunes by ear and expects to find again; ports and model paths too
# (the settings table in config.py marks each).
PERSISTED = tuple(name for name, s in SETTINGS.items() if s.saved)


def settings_path() -> Path:
    import os

    import platformdirs

    if os.environ.get("LIVEJAM_SETTINGS"):  # tests, or a second set-up side by side
        return Path(os.environ["LIVEJAM_SETTINGS"])
    return Path(platformdirs.user_config_dir("livejam")) / "settings.toml"


def load(path: Path | None = None) -> dict:
    path = path or settings_path()
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, OSError) as exc:
        raise LivejamError(f"cannot read settings {path} ({exc}); fix or delete the file")
    unknown = sorted(set(data) - set(PERSISTED))
    if unknown:
        raise LivejamError(f"settings file {path}: {_unknown_words(unknown[0])}; fix or delete that line")
    try:
        LivejamConfig.from_dict(data)  # every saved value checked for its type and range
    except (TypeError, ValueError) as exc:
        raise LivejamError(f"settings file {path}: {exc}; fix or delete that line")
    return data


def _unknown_words(name: str) -> str:
    import difflib

    if name in SETTINGS:
        return f"{name} is not kept between runs (give it as a flag)"
    near = difflib.get_close_matches(name, PERSISTED, n=1)
    return f"no setting {name!r}" + (f" (did you mean {near[0]}?)" if near else "")


def update(changes: dict, path: Path | None = None, drop: tuple = ()) -> Path:
    """Keep what the player changed on screen (or with `livejam config set`): the
    saved values with these over them, checked before anything is written. A flag
    given for one run never reaches the file."""
    import tomli_w

    path = path or settings_path()
    data = {**load(path), **{k: v for k, v in changes.items() if k in PERSISTED and v is not None}}
    for name in drop:
        data.pop(name, None)
    try:
        LivejamConfig.from_dict(data)
    except (TypeError, ValueError) as exc:
        raise LivejamError(f"not kept: {exc}") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(tomli_w.dumps(data))
    tmp.replace(path)
    return path


def parse_value(name: str, text: str):
    """A value typed on the command line (`livejam config set NAME VALUE`) as the
    setting's type: on/off for switches, numbers, comma-separated port names."""
    from .config import DEFAULTS, SETTINGS, value_type

    if name not in PERSISTED:
        raise LivejamError(f"{name} is not a setting that is kept; kept ones: {', '.join(PERSISTED)}")
    kind = value_type(name)
    if SETTINGS[name].parse is not None:
        try:
            return SETTINGS[name].parse(text)
        except ValueError as exc:
            raise LivejamError(f"{name}: {exc}") from None
    try:
        if kind is bool:
            words = {"on": True, "true": True, "yes": True, "1": True, "off": False, "false": False, "no": False,
                     "0": False}
            return words[text.strip().lower()]
        if kind is list:
            return [part.strip() for part in text.split(",") if part.strip()]
        if kind is dict:
            return {k.strip(): (v.strip().lower() if v.strip().lower() == "off" else int(v))
                    for k, _, v in (item.partition("=") for item in text.split(",") if item)}
        return kind(text)
    except (KeyError, ValueError):
        shown = ("on or off" if kind is bool else "NAME=NUMBER pairs (panic=17,muted=off)" if kind is dict
                 else type(DEFAULTS[name]).__name__)
        raise LivejamError(f"{name} takes {shown}, not {text!r}") from None
