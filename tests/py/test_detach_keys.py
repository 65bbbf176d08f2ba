"""--detach-keys: Docker's key syntax, and the scanner that holds back a sequence begun."""
import pytest

from bocker import BockerError, terminal


@pytest.mark.parametrize("text,keys", [
    (None, b"\x10\x11"), ("", b"\x10\x11"), ("ctrl-p,ctrl-q", b"\x10\x11"), ("ctrl-a,d", b"\x01d"),
    ("CTRL-X,ctrl-@", b"\x18\x00"), ("ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_", b"\x1b\x1c\x1d\x1e\x1f"), ("q", b"q"),
])
def test_parse(text, keys):
    assert terminal.parse_detach_keys(text) == keys


@pytest.mark.parametrize("bad", ["ctrl-1", "ctrl-", "ab", "ctrl-p,,ctrl-q", "ctrl-pq"])
def test_parse_refuses(bad):
    with pytest.raises(BockerError, match="Invalid detach keys"):
        terminal.parse_detach_keys(bad)


def test_scanner_detaches_on_the_whole_sequence_even_across_reads():
    keys = terminal.DetachKeys(b"\x10\x11")
    assert keys.feed(b"ls\x10") == (b"ls", False)   # the ctrl-p is held back
    assert keys.feed(b"\x11rest") == (b"", True)


def test_scanner_passes_a_sequence_that_does_not_complete():
    keys = terminal.DetachKeys(b"\x10\x11")
    assert keys.feed(b"\x10x") == (b"\x10x", False)
    assert keys.feed(b"\x10") == (b"", False)
    assert keys.feed(b"\x10\x11") == (b"\x10", True)  # ctrl-p ctrl-p ctrl-q: the first one passes


def test_no_keys_never_detach():
    assert terminal.DetachKeys(b"").feed(b"\x10\x11") == (b"\x10\x11", False)
