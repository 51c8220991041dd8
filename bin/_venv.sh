# Sourced by the bin/ scripts: make sure .venv exists and holds the project with
# the extras asked for ($1, e.g. "train,dev"), reinstalling when pyproject.toml
# changes. Everything a fresh Linux machine with Python 3.11 needs, nothing by hand.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
extras="${1:-}"

py="${PYTHON:-}"
if [ -z "$py" ]; then
    for cand in python3.11 python3 python; do
        if command -v "$cand" >/dev/null 2>&1; then py="$cand"; break; fi
    done
fi
if [ -z "$py" ]; then
    echo "livejam: no python3 found; install Python 3.11 and try again." >&2
    exit 1
fi

if [ ! -x "$VENV/bin/python" ]; then
    echo "livejam: creating $VENV (first run only)..." >&2
    "$py" -m venv "$VENV" || {
        echo "livejam: could not create a virtual environment; on Debian/Ubuntu: sudo apt install python3-venv" >&2
        exit 1
    }
fi

# A stamp per extras set, keyed by pyproject's content, so a dependency change
# reinstalls and an unchanged tree starts at once.
want="$(cat "$ROOT/pyproject.toml" | sha256sum | cut -c1-16)-${extras:-base}"
stamp="$VENV/.livejam-installed"
if ! grep -qxF "$want" "$stamp" 2>/dev/null; then
    echo "livejam: installing dependencies into .venv${extras:+ (extras: $extras)}..." >&2
    spec="$ROOT"
    [ -n "$extras" ] && spec="$ROOT[$extras]"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$spec" >&2
    # The SoundFont synth for WAV output, without its pyaudio dependency (which
    # has no Linux wheel and is only for live audio, not used here).
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps "tinysoundfont==0.3.7" >&2
    # Keep the other extras' stamps: a train+dev install also satisfies the base.
    { grep -v -- "-${extras:-base}\$" "$stamp" 2>/dev/null || true; echo "$want"; } > "$stamp.tmp"
    if [ -n "$extras" ]; then echo "$(cat "$ROOT/pyproject.toml" | sha256sum | cut -c1-16)-base" >> "$stamp.tmp"; fi
    mv "$stamp.tmp" "$stamp"
fi
