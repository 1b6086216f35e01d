#!/usr/bin/env bash
# Records the bytes xterm, GNU screen (as a program's terminal and as a
# serial console) and tmux (send-keys, and attached in xterm) send for the
# line editor's keys, into src/monitor/testdata/keys/*.keys, which
# //src/monitor:line_editor_terminals_test replays and
# //src/monitor/testing:terminal_keys_test checks. Manual (needs an X
# server and the terminals), not part of //...:
#   tools/terminal_capture/capture.sh [xterm|screen|screen-serial|tmux|tmux-xterm ...]
# Needs: apt-get install -y xvfb xterm xdotool xclip screen tmux
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
missing=()
for tool in Xvfb xterm xdotool xclip screen tmux python3; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if [ "${#missing[@]}" != 0 ]; then
  echo "capture.sh: missing ${missing[*]}; apt-get install -y xvfb xterm xdotool xclip screen tmux" >&2
  exit 2
fi
exec python3 "$here/capture.py" "$root/src/monitor/testdata/keys" "$@"
