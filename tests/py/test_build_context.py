"""The build context's pure rules: .dockerignore matching (Docker's patternmatcher) and paths
resolved inside an image's root, symlinks never leading out."""
import os

import pytest

from bocker import BockerError
from bocker.build import context


@pytest.mark.parametrize("lines, path, hidden", [
    ("*.key", "a.key", True),
    ("*.key", "dir/a.key", False),              # `*` stays in one directory
    ("**/*.key", "dir/sub/a.key", True),
    ("**/*.key", "a.key", True),                # `**/` may match no directory
    ("build", "build/out/x", True),             # a matched directory hides its contents
    ("*.md\n!README.md", "README.md", False),   # an exception after the rule
    ("!README.md\n*.md", "README.md", True),    # the last match wins
    ("/tmp?", "tmp1", True),
    ("[ab].txt", "c.txt", False),
    ("# comment\n\n", "x", False),
])
def test_dockerignore(lines, path, hidden):
    assert context.ignored(context.read_ignore(lines), path) is hidden


def test_resolve_in_keeps_symlinks_inside_the_root(tmp_path):
    root = str(tmp_path)
    os.makedirs(os.path.join(root, "usr/bin"))
    os.symlink("/usr/bin", os.path.join(root, "bin"))
    os.symlink("../../../../etc", os.path.join(root, "usr/escape"))
    assert context.resolve_in(root, "/bin/sh") == os.path.join(root, "usr/bin/sh")
    assert context.resolve_in(root, "/usr/escape/passwd") == os.path.join(root, "etc/passwd")
    assert context.resolve_in(root, "../../x") == os.path.join(root, "x")


def test_resolve_in_refuses_a_symlink_loop(tmp_path):
    os.symlink("loop", os.path.join(tmp_path, "loop"))
    with pytest.raises(BockerError, match="too many levels"):
        context.resolve_in(str(tmp_path), "/loop/x")
