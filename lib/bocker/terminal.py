"""-t: a pseudo-terminal for the container, relayed to the user's terminal in raw mode.

The container gets the pty's slave end as stdin/stdout/stderr (init.py makes it its controlling
terminal, so Ctrl-C reaches the container's foreground process group); bocker keeps the master
end, copies keystrokes in and output out (and into the log), and passes window size changes on.
"""
import fcntl
import os
import signal
import sys
import termios

from . import BockerError

TIOCGWINSZ, TIOCSWINSZ = termios.TIOCGWINSZ, termios.TIOCSWINSZ


TIOCGPTN, TIOCSPTLCK = 0x80045430, 0x40045431


def open_pty(root=None):
    """A new pty pair, sized like the user's terminal. With `root` (a running container's
    /proc/PID/root), from the container's own devpts, so that `tty` names it inside."""
    if root is None:
        master, slave = os.openpty()
    else:
        master = os.open(f"{root}/dev/pts/ptmx", os.O_RDWR | os.O_NOCTTY)
        fcntl.ioctl(master, TIOCSPTLCK, b"\0\0\0\0")  # unlockpt
        number = int.from_bytes(fcntl.ioctl(master, TIOCGPTN, b"\0\0\0\0"), "little")
        slave = os.open(f"{root}/dev/pts/{number}", os.O_RDWR | os.O_NOCTTY)
    copy_size(master)
    return master, slave


def copy_size(master):
    for fd in (0, 1, 2):
        if os.isatty(fd):
            try:
                size = fcntl.ioctl(fd, TIOCGWINSZ, b"\0" * 8)
                fcntl.ioctl(master, TIOCSWINSZ, size)
            except OSError:
                pass
            return


def relay(master, proc, log, forward_stdin, detach_keys=b""):
    """Copy between the user's terminal and the pty until the container closes it (output
    also to `log`, a logs.Writer, if given); the terminal is put back as it was whatever happens.
    Returns the process's wait status, or None if the user typed `detach_keys`: the process
    goes on, its pty held by a background copier (keep_logging, without a log)."""
    try:
        detached = _copy(master, master, log, forward_stdin, detach_keys)
    finally:
        if log is not None:
            log.close()
    if detached:
        keep_logging(master, None, 0)
        return None
    os.close(master)
    return proc.wait()


def _copy(src, master, log, forward_stdin, detach_keys=b""):
    """The relay's loop: output read from `src` (the pty master, or an attach socket) to our
    stdout (and `log`), keystrokes into `master` (raw mode), window size changes passed on.
    Ends when `src` closes; returns True if the user typed the detach keys instead."""
    import select
    stdin_fd = sys.stdin.fileno()
    saved = None
    if forward_stdin and os.isatty(stdin_fd):
        saved = termios.tcgetattr(stdin_fd)
        import tty as stdlib_tty
        stdlib_tty.setraw(stdin_fd, termios.TCSANOW)  # (not TCSAFLUSH: keep what was typed already)
    old_winch = signal.signal(signal.SIGWINCH, lambda *_: copy_size(master))
    readers = [src] + ([stdin_fd] if forward_stdin else [])
    keys = DetachKeys(detach_keys)
    out = sys.stdout.buffer
    try:
        while src in readers:
            try:
                ready, _, _ = select.select(readers, [], [])
            except InterruptedError:
                continue
            if src in ready:
                try:
                    data = os.read(src, 65536)
                except OSError:  # EIO: every slave end is closed, the container is gone
                    data = b""
                if not data:
                    break
                if log is not None:
                    log.write(data)
                out.write(data)
                out.flush()
            if stdin_fd in ready:
                data = os.read(stdin_fd, 65536)
                if not data:  # end of input: pass an EOF (Ctrl-D) on, stop reading
                    readers.remove(stdin_fd)
                    os.write(master, b"\x04")
                    continue
                data, detached = keys.feed(data)
                if data:
                    os.write(master, data)
                if detached:
                    return True
    finally:
        signal.signal(signal.SIGWINCH, old_winch)
        if saved is not None:
            termios.tcsetattr(stdin_fd, termios.TCSADRAIN, saved)
    return False


DEFAULT_DETACH_KEYS = "ctrl-p,ctrl-q"
_CTRL_PUNCT = {"@": 0, "[": 27, "\\": 28, "]": 29, "^": 30, "_": 31}


def parse_detach_keys(text):
    """Docker's --detach-keys: keys separated by commas, each one character or ctrl-X (X a
    letter or one of @ [ \\ ] ^ _); returns their bytes ("" or None: Ctrl-P Ctrl-Q)."""
    out = bytearray()
    for key in (text or DEFAULT_DETACH_KEYS).split(","):
        k = key.strip().lower()
        if len(k) == 1:
            out.append(ord(k))
        elif len(k) == 6 and k.startswith("ctrl-") and ("a" <= k[5] <= "z" or k[5] in _CTRL_PUNCT):
            out.append(ord(k[5]) - ord("a") + 1 if k[5].isalpha() else _CTRL_PUNCT[k[5]])
        else:
            raise BockerError(f"Invalid detach keys ({text}) provided")
    return bytes(out)


class DetachKeys:
    """Watches keystrokes for the detach sequence: the keys of a sequence begun are held back,
    and passed on if it does not complete (as Docker's escape proxy)."""

    def __init__(self, keys):
        self.keys, self.held = keys, b""

    def feed(self, data):
        """(the bytes to pass on, whether the sequence is complete)."""
        if not self.keys:
            return data, False
        out = bytearray()
        for i in range(len(data)):
            self.held += data[i:i + 1]
            while not self.keys.startswith(self.held):  # pass on what can no longer begin it
                out += self.held[:1]
                self.held = self.held[1:]
            if self.held == self.keys:
                self.held = b""
                return bytes(out), True
        return bytes(out), False


def attach(sock, forward_stdin, detach_keys=b""):
    """`bocker attach` (and `run -it`) to a -t container: `sock`, connected to its copier's
    attach socket, hands over the pty master (for keystrokes and the window size), then
    carries the output. Returns True if the user detached, False when the container ended."""
    import socket
    try:
        _, fds, _, _ = socket.recv_fds(sock, 1, 1)
        if not fds:
            return False  # the copier is finishing: the container is gone
        master = fds[0]
        try:
            copy_size(master)
            return _copy(sock.fileno(), master, None, forward_stdin, detach_keys)
        finally:
            os.close(master)
    finally:
        sock.close()


def connect(path):
    """A connection to a -t container's attach socket (its copier's)."""
    import socket
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    try:
        _at(path, sock.connect)
    except OSError as e:
        sock.close()
        raise BockerError(f"cannot attach: the container's terminal is not served ({e.strerror})")
    return sock


def _at(path, fn):
    """fn(a name for the socket `path`) short enough for AF_UNIX (108 bytes at most, which a
    store's path may pass): through /proc/self/fd/N/, N its directory."""
    fd = os.open(os.path.dirname(path), os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        return fn(f"/proc/self/fd/{fd}/{os.path.basename(path)}")
    finally:
        os.close(fd)


def keep_logging(master, log_path, max_size, listen=None, first=False):
    """-t detached: a small background process holds the master end, writes the output to the
    log (if `log_path`) and serves `bocker attach` on the unix socket `listen`: each client is
    handed the master (SCM_RIGHTS: it writes keystrokes and sets the window size itself) and
    gets a copy of the output from then on. `first`: returns a client connected before any
    output is read (run -it: nothing is missed)."""
    import socket
    server = mine = theirs = None
    if listen:
        if os.path.lexists(listen):
            os.unlink(listen)
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)  # 0600: root's, as the container's directory
        try:
            _at(listen, server.bind)
        finally:
            os.umask(old)
        server.listen(8)
    if first:
        mine, theirs = socket.socketpair()
    pid = os.fork()
    if pid:
        os.close(master)
        for s in (server, theirs):
            if s is not None:
                s.close()
        return mine
    os.setsid()
    # let go of everything else bocker had open (its stdout may be a `$(bocker run -dit ...)`)
    null = os.open(os.devnull, os.O_RDWR)
    for std in (0, 1, 2):
        os.dup2(null, std)
    keep = {master} | {s.fileno() for s in (server, theirs) if s is not None}
    for fd in map(int, os.listdir("/proc/self/fd")):
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:  # (the directory listing's own descriptor)
                pass
    from .logs import Writer
    log = Writer(log_path, max_size) if log_path else None
    clients = []
    if theirs is not None:
        _welcome(clients, theirs, master)
    try:
        _serve(master, server, clients, log)
    finally:
        if listen:
            try:
                os.unlink(listen)
            except OSError:
                pass
        os._exit(0)


def _welcome(clients, client, master):
    import socket
    try:
        client.settimeout(5)  # a client that stops reading is dropped, not waited for
        socket.send_fds(client, [b"m"], [master])
        clients.append(client)
    except OSError:
        client.close()


def _serve(master, server, clients, log):
    """The copier's loop, until the container closes its terminal."""
    import select
    while True:
        readers = [master] + ([server] if server else []) + clients
        try:
            ready, _, _ = select.select(readers, [], [])
        except InterruptedError:
            continue
        if server is not None and server in ready:
            try:
                _welcome(clients, server.accept()[0], master)
            except OSError:
                pass
        for client in [c for c in clients if c in ready]:  # a client only ever closes
            clients.remove(client)
            client.close()
        if master in ready:
            try:
                data = os.read(master, 65536)
            except OSError:
                data = b""
            if not data:
                if log is not None:
                    log.close()
                return
            if log is not None:
                log.write(data)
            for client in list(clients):
                try:
                    client.sendall(data)
                except OSError:
                    clients.remove(client)
                    client.close()
