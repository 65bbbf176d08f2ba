"""bocker: Docker-style containers from btrfs, namespaces, cgroups and a bridge."""
__version__ = "0.1.0"


class BockerError(Exception):
    """A user-facing error: printed as one line, exit code `code` (125 unless said)."""

    def __init__(self, message, code=125):
        super().__init__(message)
        self.code = code
