#!/usr/bin/env python3
"""Records the bytes real terminals send for a fixed script of key presses,
into the .keys files the line editor's host tests replay
(src/monitor/testdata/keys). Manual, not part of //...: it needs an X
server and the terminals (see capture.sh).

  capture.py OUTDIR

Each key is pressed on its own: xterm (under Xvfb, keys from xdotool
through XTEST, as from a keyboard), GNU screen inside that xterm (so
screen parses xterm's sequences and re-encodes them for its window), and
tmux (send-keys with key names: tmux encodes them for its pane as it would
a key from its own client). A program in raw mode (record.py) writes down
every byte; a key's bytes are what arrived until the recording stayed
still for QUIET seconds."""
import datetime
import os
import shutil
import subprocess
import sys
import tempfile
import time

QUIET = 0.4  # a key's bytes arrive in one write; this is generous
TIMEOUT = 5.0

# (name in the .keys file, xdotool key, tmux send-keys key). The names are
# the ones src/monitor/testing/terminal_keys.cc expects (capture_key_names).
KEYS = [
    ("a", "a", "a"),
    ("b", "b", "b"),
    ("c", "c", "c"),
    ("X", "X", "X"),
    ("Space", "space", "Space"),
    ("Semicolon", "semicolon", "\\;"),  # a lone ; separates tmux commands
    ("Up", "Up", "Up"),
    ("Down", "Down", "Down"),
    ("Left", "Left", "Left"),
    ("Right", "Right", "Right"),
    ("Home", "Home", "Home"),
    ("End", "End", "End"),
    ("Delete", "Delete", "DC"),
    ("Backspace", "BackSpace", "BSpace"),
    ("Tab", "Tab", "Tab"),
    ("Enter", "Return", "Enter"),
    ("C-a", "ctrl+a", "C-a"),
    ("C-b", "ctrl+b", "C-b"),
    ("C-c", "ctrl+c", "C-c"),
    ("C-d", "ctrl+d", "C-d"),
    ("C-e", "ctrl+e", "C-e"),
    ("C-f", "ctrl+f", "C-f"),
    ("C-h", "ctrl+h", "C-h"),
    ("C-k", "ctrl+k", "C-k"),
    ("C-n", "ctrl+n", "C-n"),
    ("C-p", "ctrl+p", "C-p"),
    ("C-u", "ctrl+u", "C-u"),
    ("C-w", "ctrl+w", "C-w"),
    ("C-Left", "ctrl+Left", "C-Left"),
    ("C-Right", "ctrl+Right", "C-Right"),
    ("S-Left", "shift+Left", "S-Left"),
    ("S-Right", "shift+Right", "S-Right"),
    ("C-Up", "ctrl+Up", "C-Up"),
    # Keys the editor does not bind: it must ignore them whole.
    ("Insert", "Insert", "IC"),
    ("PageUp", "Prior", "PPage"),
    ("F1", "F1", "F1"),
    ("F5", "F5", "F5"),
    ("S-Tab", "shift+Tab", "BTab"),
    ("M-b", "alt+b", "M-b"),
]
PASTE = "echo one\necho two\n"  # pasted as the last "key", named Paste

# GNU screen takes Ctrl-A as its command key: its users type Ctrl-A a to
# send one, so that is what is pressed for C-a inside screen. tmux's prefix
# is Ctrl-B, sent on by pressing it twice.
SCREEN_KEYS = {"C-a": "ctrl+a a"}
TMUX_KEYS = {"C-b": "ctrl+b ctrl+b"}
SCREEN_SESSION = f"termcap-{os.getpid()}"


def run(*cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


class Recording:
    def __init__(self, path):
        self.path = path

    def wait_ready(self):
        deadline = time.monotonic() + 20
        while not os.path.exists(self.path + ".ready"):
            if time.monotonic() > deadline:
                sys.exit(f"capture: the recorder did not start ({self.path})")
            time.sleep(0.1)
        time.sleep(0.5)
        with open(self.path + ".ready") as f:
            return f.read().strip()

    def size(self):
        return os.path.getsize(self.path)

    def press(self, name, send):
        """Sends one key and returns the bytes it produced."""
        before = self.size()
        send()
        start = time.monotonic()
        last, last_change = before, start
        while True:
            time.sleep(0.05)
            now, size = time.monotonic(), self.size()
            if size != last:
                last, last_change = size, now
            if last > before and now - last_change >= QUIET:
                break
            if now - start > TIMEOUT:
                sys.exit(f"capture: key {name} sent nothing in {TIMEOUT} s")
        with open(self.path, "rb") as f:
            f.seek(before)
            return f.read(last - before)


def write_keys(path, header, keys):
    with open(path, "w") as f:
        for k, v in header:
            f.write(f"# {k}: {v}\n")
        for name, data in keys:
            f.write(f"{name:<10} {' '.join(f'{b:02x}' for b in data)}\n")
    print(f"capture: wrote {path}")


def header(terminal, version, term, mode, how):
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return [
        ("terminal", terminal),
        ("version", version),
        ("TERM", term),
        ("mode", mode),
        ("keys", how),
        ("captured", stamp),
        ("command", " ".join(["tools/terminal_capture/capture.sh"] + sys.argv[2:])),
    ]


class X:
    """An Xvfb display with one xterm on it, focused."""

    def __init__(self):
        # -displayfd: Xvfb picks a free display and writes its number.
        r, w = os.pipe()
        self.procs = [subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0", "1024x768x24", "-nolisten", "tcp"],
                                       stderr=subprocess.DEVNULL, pass_fds=[w])]
        os.close(w)
        with os.fdopen(r) as f:
            display = ":" + f.readline().strip()
        if display == ":":
            sys.exit("capture: Xvfb did not start")
        self.env = dict(os.environ, DISPLAY=display, LANG="C.UTF-8", LC_ALL="C.UTF-8")
        self.cleanups = []  # commands that end what outlives the xterm

    def xterm(self, argv):
        # No resources of our own: Debian's app-defaults decide the keys,
        # as for a user.
        p = subprocess.Popen(["xterm", "-geometry", "80x24", "-e"] + argv, env=self.env,
                             stderr=subprocess.DEVNULL)
        self.procs.append(p)
        wid = run("xdotool", "search", "--sync", "--pid", str(p.pid), env=self.env).split()[0]
        run("xdotool", "windowfocus", "--sync", wid, env=self.env)
        run("xdotool", "mousemove", "--window", wid, "10", "10", env=self.env)
        return p

    def key(self, spec):
        for k in spec.split():
            run("xdotool", "key", "--clearmodifiers", k, env=self.env)
            time.sleep(0.05)

    def paste(self, text):
        # xterm pastes PRIMARY on Shift-Insert, as a middle click does.
        subprocess.run(["xclip", "-selection", "primary", "-i"], input=text, text=True, env=self.env, check=True)
        time.sleep(0.3)
        self.key("shift+Insert")

    def close(self):
        # screen detaches and tmux's server stays when their xterm goes:
        # end them by name first.
        for cmd in self.cleanups:
            subprocess.run(cmd, capture_output=True)
        for p in reversed(self.procs):
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()


def flags_for(mode):
    return {"normal": [], "appcursor": ["--appcursor", "--bracketed-paste"]}[mode]


MODE_TEXT = {
    "normal": "cursor keys normal (DECCKM reset), bracketed paste off: as the monitor leaves them",
    "appcursor": "application cursor keys (DECCKM set) and bracketed paste on, as a program may leave them",
}


def capture_x(outdir, tmp, which, mode):
    x = X()
    try:
        rec = Recording(os.path.join(tmp, f"{which}-{mode}.raw"))
        recorder = ["python3", os.path.join(os.path.dirname(os.path.abspath(__file__)), "record.py"), rec.path]
        recorder += flags_for(mode)
        if which == "screen-serial":
            # screen on a serial line, as one talks to the monitor: the
            # recorder holds the other end of a pty that screen opens as
            # its tty window.
            pty = subprocess.Popen([sys.executable, recorder[1], "--pty", rec.path])
            x.procs.append(pty)
            line = rec.wait_ready()
            x.cleanups.append(["screen", "-S", SCREEN_SESSION, "-X", "quit"])
            x.xterm(["screen", "-S", SCREEN_SESSION, "-c", "/dev/null", line, "115200"])
            time.sleep(1.0)
            version = run("screen", "-v").strip()
            how = ("xdotool key (XTEST) into xterm under Xvfb running `screen PTY 115200` (a tty window on a "
                   "pty standing in for the serial line; Ctrl-A sent as Ctrl-A a)")
            terminal = "GNU screen's serial console inside " + run("xterm", "-version").strip()
            special = SCREEN_KEYS
            term = "(none: a serial line has no TERM; screen's own is screen)"
        elif which == "tmux-xterm":
            # tmux attached in xterm: xterm's bytes, parsed by tmux and
            # encoded again for its pane, as a person at a keyboard gets.
            x.cleanups.append(["tmux", "-L", "termcap-x", "kill-server"])
            x.xterm(["tmux", "-L", "termcap-x", "-f", "/dev/null", "new-session", " ".join(recorder)])
            version = run("tmux", "-V").strip()
            how = "xdotool key (XTEST) into xterm under Xvfb running tmux, no configuration (Ctrl-B sent as Ctrl-B Ctrl-B)"
            terminal = "tmux inside " + run("xterm", "-version").strip()
            special = TMUX_KEYS
        elif which == "xterm":
            x.xterm(recorder)
            version = run("xterm", "-version").strip()
            how = "xdotool key (XTEST) into xterm under Xvfb, Debian's XTerm app-defaults, LANG=C.UTF-8"
            terminal = "xterm"
            special = {}
        else:
            # -c /dev/null: no ~/.screenrc; /etc/screenrc applies, as for a user.
            x.cleanups.append(["screen", "-S", SCREEN_SESSION, "-X", "quit"])
            x.xterm(["screen", "-S", SCREEN_SESSION, "-c", "/dev/null"] + recorder)
            version = run("screen", "-v").strip()
            how = "xdotool key (XTEST) into xterm under Xvfb running GNU screen (Ctrl-A sent as Ctrl-A a)"
            terminal = "GNU screen inside " + run("xterm", "-version").strip()
            special = SCREEN_KEYS
        if which != "screen-serial":
            term = rec.wait_ready()
        keys = []
        for name, xkey, _ in KEYS:
            spec = special.get(name, xkey)
            keys.append((name, rec.press(name, lambda: x.key(spec))))
        keys.append(("Paste", rec.press("Paste", lambda: x.paste(PASTE))))
        suffix = "" if mode == "normal" else "-" + mode
        write_keys(os.path.join(outdir, f"{which}{suffix}.keys"),
                   header(terminal, version, term, MODE_TEXT[mode], how), keys)
    finally:
        x.close()


def capture_tmux(outdir, tmp, default_terminal, mode):
    sock = "termcap"
    conf = os.path.join(tmp, "tmux.conf")
    with open(conf, "w") as f:
        if default_terminal:
            f.write(f"set -g default-terminal {default_terminal}\n")
    rec = Recording(os.path.join(tmp, f"tmux-{default_terminal}-{mode}.raw"))
    recorder = " ".join(["python3", os.path.join(os.path.dirname(os.path.abspath(__file__)), "record.py"), rec.path]
                        + flags_for(mode))
    tmux = ["tmux", "-L", sock, "-f", conf]
    run(*tmux, "new-session", "-d", "-s", sock, "-x", "80", "-y", "24", recorder)
    try:
        term = rec.wait_ready()
        keys = []
        for name, _, tkey in KEYS:
            keys.append((name, rec.press(name, lambda: run(*tmux, "send-keys", "-t", sock, tkey))))

        def paste():
            run(*tmux, "set-buffer", "-b", sock, PASTE)
            # -p: bracketed if the program asked for it, as tmux does for a
            # paste from its own prefix-] binding.
            run(*tmux, "paste-buffer", "-p", "-b", sock, "-t", sock)

        keys.append(("Paste", rec.press("Paste", paste)))
    finally:
        subprocess.run(tmux + ["kill-server"], capture_output=True)
    name = "tmux" + ("" if not default_terminal else "-" + default_terminal)
    name += "" if mode == "normal" else "-" + mode
    how = "tmux send-keys with key names, " + (f"set -g default-terminal {default_terminal}" if default_terminal
                                               else "no configuration (Debian's default-terminal)")
    write_keys(os.path.join(outdir, name + ".keys"),
               header("tmux", run("tmux", "-V").strip(), term, MODE_TEXT[mode], how), keys)


TERMINALS = ("xterm", "screen", "screen-serial", "tmux", "tmux-xterm")


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: capture.py OUTDIR [xterm|screen|tmux ...]")
    outdir = sys.argv[1]
    which = sys.argv[2:] or list(TERMINALS)
    for w in which:
        if w not in TERMINALS:
            sys.exit(f"capture: unknown terminal {w!r} ({', '.join(TERMINALS)})")
    os.makedirs(outdir, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="termcap.")
    try:
        for w in which:
            for mode in ("normal", "appcursor"):
                if w == "tmux":
                    capture_tmux(outdir, tmp, "", mode)
                    if mode == "normal":
                        capture_tmux(outdir, tmp, "screen", mode)
                elif w in ("screen-serial", "tmux-xterm"):
                    # Normal mode only: the serial line's far end is the
                    # kernel, which never sets DECCKM or bracketed paste;
                    # tmux in xterm adds its parsing, not new modes.
                    if mode == "normal":
                        capture_x(outdir, tmp, w, mode)
                else:
                    capture_x(outdir, tmp, w, mode)
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
