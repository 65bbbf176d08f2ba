"""bocker: Docker-style containers from btrfs, namespaces, cgroups and a bridge."""
__version__ = "0.1.0"

# Exit codes, as Docker's CLI: only run/create (and exec for the two below) say 125 for their
# own errors; every other verb exits 1 when it refuses (cli.exit_code maps one to the other).
EXIT_REFUSED = 1
EXIT_ERROR = 125
EXIT_CANNOT_INVOKE = 126
EXIT_NOT_FOUND = 127


class BockerError(Exception):
    """A user-facing error: printed as one line, exit code `code` (125 unless said)."""

    def __init__(self, message, code=EXIT_ERROR):
        super().__init__(message)
        self.code = code


class NotFound(BockerError):
    """No such container, image or volume: `rm -f`, `rmi -f`, `volume rm -f` pass over it."""
