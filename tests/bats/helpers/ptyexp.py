"""A tiny expect for the bats files: a command line on a real pty; expect(regex), send(text),
resize, close (tty.bats, attach.bats)."""
import fcntl, os, pty, re, select, struct, termios, time


class Pty:
    def __init__(self, cmd, rows=33, cols=97):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execvp("bash", ["bash", "-c", cmd])
        self.resize(rows, cols)
        self.buf = self.all = b""

    def resize(self, rows, cols):
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def _read(self, timeout):
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return False
        try:
            data = os.read(self.fd, 65536)
        except OSError:
            data = b""
        if not data:
            raise EOFError
        self.buf += data
        self.all += data
        return True

    def expect(self, pattern, timeout=10):
        """Wait for a regex in the output after the last match; returns the match (as str)."""
        rx = re.compile(pattern.encode())
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.buf)
            if m:
                self.buf = self.buf[m.end():]
                return m.group(0).decode(errors="replace")
            left = deadline - time.monotonic()
            try:
                if left <= 0 or not self._read(left):
                    raise SystemExit(f"timeout waiting for {pattern!r}; output: {self.buf!r}")
            except EOFError:
                raise SystemExit(f"end of output waiting for {pattern!r}; output: {self.buf!r}")

    def send(self, text):
        os.write(self.fd, text.encode())

    def close(self, timeout=10):
        """Read to the end; the command line's exit status."""
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                self._read(0.1)
        except EOFError:
            pass
        for _ in range(100):
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return os.waitstatus_to_exitcode(status)
            time.sleep(0.05)
        os.kill(self.pid, 9)
        raise SystemExit("the command line did not end")


def around(bocker_args):
    """The command line: terminal settings before, bocker, its exit code, settings after."""
    return ('echo "before=[$(stty -g)]"; "$BOCKER" ' + bocker_args +
            '; echo "rc=[$?]"; echo "after=[$(stty -g)]"')


def check_restored(p, rc):
    """bocker ended with `rc` and the terminal settings are as they were before."""
    got = p.expect(r"rc=\[\d+\]")
    assert got == f"rc=[{rc}]", f"exit code: {got}, wanted {rc}"
    after = p.expect(r"after=\[[^]]*\]")[len("after="):]
    assert after == p.before, f"terminal settings not restored: {p.before} -> {after}"
    assert p.close() == 0


def start(bocker_args, rows=33, cols=97):
    p = Pty(around(bocker_args), rows, cols)
    p.before = p.expect(r"before=\[[^]]*\]")[len("before="):]
    return p
