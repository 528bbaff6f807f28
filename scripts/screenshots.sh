#!/usr/bin/env bash
# Screenshots of the explorer for the README: the release binary runs in a real terminal (a
# detached tmux session), each screen is captured with its colours (tmux capture-pane -e),
# turned into HTML (aha) and photographed by headless Chromium, all from Debian packages.
#
#   scripts/screenshots.sh [MODEL]
#
# MODEL defaults to the explorer's own default model in the user's cache, trained first if
# missing (a few minutes). The first-run training screen is photographed with an empty
# cache of its own, then cancelled with Esc. For the comparison, the same architecture is
# trained with L2 (a few minutes more). Writes screenshots/{training,overview,
# layer-stepping,sensitivity,before-after,compare}.png.
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
.cell { display: inline-block; width: 1ch; overflow: hidden; vertical-align: top; }
</style></head><body><pre>
HTML
        # Braille (the charts) is not in DejaVu Sans Mono: the browser takes it from another
        # font with other widths, so each such character gets a cell of its own, as in a terminal.
        aha --black --no-header < "$work/$name.ansi" \
            | perl -CSD -pe 's/([\x{2800}-\x{28FF}\x{25E6}])/<span class="cell">$1<\/span>/g'
        echo '</pre></body></html>'
    } > "$work/$name.html"
    # DejaVu Sans Mono at 15px is 9.04px wide; 18px lines; 14/16px of padding.
    local width=$(( (columns * 904 + 99) / 100 + 32 )) height=$(( rows * 18 + 28 ))
    chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --force-device-scale-factor=1 \
        --window-size="$width,$height" --screenshot="$out/$name.png" "file://$work/$name.html" >/dev/null 2>&1
    echo "wrote screenshots/$name.png" >&2
}

mkdir -p "$out"
tmux -L "$socket" new-session -d -s shots -x "$columns" -y "$rows" \
    "env TERM=xterm-256color PS1='$ ' bash --norc --noprofile"

# The first run's training screen, from an empty cache of its own: photographed once the
# time left is known, then cancelled (nothing is cached, and oicsr says so).
keys "clear; XDG_CACHE_HOME=$work/first-run $binary; echo exit=\$?" Enter
wait_for "Training convnet-s" 60
deadline=$((SECONDS + 300))
until screen | grep -qE 'ETA +[0-9<]'; do
    ((SECONDS < deadline)) || { echo "screenshots: no ETA after 300 s:" >&2; screen >&2; exit 1; }
    sleep 0.2
done
shoot training
keys Escape
wait_for "exit=1" 60

command_line="$binary explore"
[ -n "$model" ] && command_line="$command_line $(printf %q "$model")"
keys "clear; $command_line" Enter
# Without a cached model the explorer trains it first (minutes), then shows the overview.
wait_for "Layers ·" 1800

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

# Sensitivity, measured in the background: per layer and along the walk.
keys "a"
wait_for "sensitivity measured" 1800
keys "3"
wait_for "Top-1 along the walk"
shoot sensitivity

# Prune, evaluate, re-estimate BatchNorm, fine-tune: the before/after panel filled in.
keys "4" "p"
wait_for "pruned model #1:" 60
keys "e"
wait_for "evaluated" 300
keys "b"
wait_for "re-estimated" 300
keys "f"
wait_for "fine-tuned one epoch" 1800
shoot before-after

keys "s"
wait_for "saved /" 60
keys "q"
wait_for "the selection, as a command" 30

# The same model trained with L2, side by side with the OICSR-GL one.
cache=${XDG_CACHE_HOME:-$HOME/.cache}/oicsr
[ -n "$model" ] || model="$cache/convnet-s-oicsr-gl.safetensors"
l2="$cache/convnet-s-l2-for-comparison.safetensors"
if [ ! -f "$l2" ]; then
    echo "training convnet-s with L2 for the comparison…" >&2
    "$binary" train --model convnet-s --reg l2 --out "$l2" >&2
fi
keys "clear; $binary explore $(printf %q "$model") --compare $(printf %q "$l2"); exit" Enter
wait_for "Layers ·" 60
keys ">" ">" ">" "5"
wait_for "A: "
shoot compare
keys "q"
