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


def relay(master, proc, log, forward_stdin):
    """Copy between the user's terminal and the pty until the container closes it (output
    also to `log`, a logs.Writer, if given); the terminal is put back as it was whatever happens."""
    import select
    stdin_fd = sys.stdin.fileno()
    saved = None
    if forward_stdin and os.isatty(stdin_fd):
        saved = termios.tcgetattr(stdin_fd)
        import tty as stdlib_tty
        stdlib_tty.setraw(stdin_fd)
    old_winch = signal.signal(signal.SIGWINCH, lambda *_: copy_size(master))
    readers = [master] + ([stdin_fd] if forward_stdin else [])
    out = sys.stdout.buffer
    try:
        while master in readers:
            try:
                ready, _, _ = select.select(readers, [], [])
            except InterruptedError:
                continue
            if master in ready:
                try:
                    data = os.read(master, 65536)
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
                else:
                    os.write(master, data)
    finally:
        signal.signal(signal.SIGWINCH, old_winch)
        if saved is not None:
            termios.tcsetattr(stdin_fd, termios.TCSADRAIN, saved)
        os.close(master)
        if log is not None:
            log.close()
    return proc.wait()


def keep_logging(master, log_path, max_size):
    """-dt: a small background process holds the master end and writes the output to the log."""
    pid = os.fork()
    if pid:
        os.close(master)
        return pid
    os.setsid()
    # let go of everything else bocker had open (its stdout may be a `$(bocker run -dit ...)`)
    null = os.open(os.devnull, os.O_RDWR)
    for std in (0, 1, 2):
        os.dup2(null, std)
    os.closerange(3, master)
    os.closerange(master + 1, 4096)
    from .logs import Writer
    log = Writer(log_path, max_size)
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            data = b""
        if not data:
            log.close()
            os._exit(0)
        log.write(data)
