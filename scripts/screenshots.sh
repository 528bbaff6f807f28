#!/usr/bin/env bash
# Screenshots of the explorer for the README: the release binary runs in a real terminal (a
# detached tmux session), each screen is captured with its colours (tmux capture-pane -e),
# turned into HTML (aha) and photographed by headless Chromium, all from Debian packages.
#
#   scripts/screenshots.sh [MODEL]
#
# MODEL defaults to the explorer's own default model in the user's cache; when that is
# missing, the explorer's first-run training screen trains it (a few minutes) and is
# photographed too. Writes screenshots/{training,overview,layer-stepping,before-after}.png.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out="$root/screenshots"
columns=120
rows=40

# Debian packages: a terminal (tmux), ANSI → HTML (aha), HTML → PNG (chromium), a font.
scripts/install-missing.sh tmux aha chromium fonts-dejavu-core

binary=${OICSR_BINARY:-}
if [ -z "$binary" ]; then
    swift build -c release --product oicsr >&2
    binary="$root/.build/release/oicsr"
fi
model=${1:-}

work=$(mktemp -d)
socket="oicsr-shots-$$"
cleanup() { tmux -L "$socket" kill-server 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

screen() { tmux -L "$socket" capture-pane -p -t shots; }

# Polls the screen until it shows $1 (a fixed string), for at most $2 seconds.
wait_for() {
    local deadline=$((SECONDS + ${2:-30}))
    until screen | grep -qF -- "$1"; do
        if ((SECONDS > deadline)); then
            echo "screenshots: waited ${2:-30}s for '$1'; the screen shows:" >&2
            screen >&2
            exit 1
        fi
        sleep 0.1
    done
}

keys() { tmux -L "$socket" send-keys -t shots "$@"; }

# The pane as it looks, colours included, photographed into $out/$1.png.
shoot() {
    local name=$1
    tmux -L "$socket" capture-pane -e -p -t shots > "$work/$name.ansi"
    {
        cat <<'HTML'
<!DOCTYPE html><html><head><meta charset="utf-8"><style>
body { margin: 0; background: #1d1f21; }
pre { margin: 0; padding: 14px 16px; color: #d8dadc; background: #1d1f21;
      font-family: "DejaVu Sans Mono", monospace; font-size: 15px; line-height: 18px; }
</style></head><body><pre>
HTML
        aha --black --no-header < "$work/$name.ansi"
        echo '</pre></body></html>'
    } > "$work/$name.html"
    # DejaVu Sans Mono at 15px is 9.04px wide; 18px lines; 14/16px of padding.
    local width=$(( (columns * 904 + 99) / 100 + 32 )) height=$(( rows * 18 + 28 ))
    chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --force-device-scale-factor=1 \
        --window-size="$width,$height" --screenshot="$out/$name.png" "file://$work/$name.html" >/dev/null 2>&1
    echo "wrote screenshots/$name.png" >&2
}

mkdir -p "$out"
command_line="$binary explore"
[ -n "$model" ] && command_line="$command_line $(printf %q "$model")"
tmux -L "$socket" new-session -d -s shots -x "$columns" -y "$rows" \
    "env TERM=xterm-256color PS1='$ ' bash --norc --noprofile"
keys "clear; $command_line; exit" Enter

# First run: the training screen, then (minutes later) the overview.
if ! timeout 60 bash -c "until tmux -L $socket capture-pane -p -t shots | grep -qE 'Layers ·|Training convnet-s'; do sleep 0.2; done"; then
    echo "screenshots: the explorer did not start:" >&2
    screen >&2
    exit 1
fi
if screen | grep -qF "Training convnet-s"; then
    wait_for "%" 60
    sleep 3   # let the rate and ETA settle before the picture
    shoot training
    wait_for "Layers ·" 1800
fi

# Overview: 30% of FLOPs removed, the cursor on the third layer.
keys ">" ">" ">" "j" "j"
wait_for "target 30% FLOPs"
shoot overview

# Layer view in the middle of stepping: a few channels forward, one back.
keys Enter "]" "]" "]" "]" "]" "["
wait_for "kept again"
keys "]"
wait_for "went"
shoot layer-stepping

# Prune, evaluate, re-estimate BatchNorm, fine-tune: the before/after panel filled in.
keys "p"
wait_for "unsaved: s saves" 60
keys "e"
wait_for "evaluated: top-1" 300
keys "b"
wait_for "BN statistics re-estimated" 300
keys "f"
wait_for "fine-tuned one epoch" 1800
shoot before-after

keys "q" "y"
