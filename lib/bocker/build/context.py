"""The build context and what COPY/ADD take from it: `.dockerignore` (Docker's patternmatcher
rules: `*`, `?`, `**`, `[...]`, `!` exceptions, the last match wins, a matched directory hides
what is in it), sources that never leave the context (`..`, symlinks pointing out), and copying
into an image's files with every path resolved inside that root (an image's symlink cannot send
a file to the host)."""
import os
import re

from .. import BockerError


class Source:
    """One thing to copy: `name` (its base name at the destination), `path` (real), `is_dir`,
    `many` (came from a wildcard: the destination is a directory), `files`: (relative name, path)
    of what it holds (one ("", path) for a file), the ignored ones left out."""
    __slots__ = ("name", "path", "is_dir", "many", "files")

    def __init__(self, name, path, many=False, files=None):
        self.name, self.path, self.many = name, path, many
        self.is_dir = os.path.isdir(path) and not os.path.islink(path)
        self.files = files if files is not None else [("", path)]


def _pattern(text):
    """A .dockerignore line -> regex, as moby/patternmatcher compiles it."""
    out, i = "", 0
    while i < len(text):
        c = text[i]
        if text.startswith("**", i):
            i += 2
            if text.startswith("/", i):     # `**/`: any number of directories, none included
                i += 1
                out += "(.*/)?"
            else:
                out += ".*"
            continue
        if c == "*":
            out += "[^/]*"
        elif c == "?":
            out += "[^/]"
        elif c == "\\" and i + 1 < len(text):
            i += 1
            out += re.escape(text[i])
        elif c == "[" and "]" in text[i + 1:]:
            j = text.index("]", i + 1)
            body = text[i + 1:j]
            out += "[" + ("^" + body[1:] if body.startswith(("!", "^")) else body) + "]"
            i = j
        else:
            out += re.escape(c)
        i += 1
    return re.compile(out + "$")


def read_ignore(text):
    """[(regex, is_exception)] of a .dockerignore's lines (comments and blanks skipped)."""
    import posixpath
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        neg = line.startswith("!")
        line = posixpath.normpath(line[1:].strip() if neg else line).lstrip("/")
        out.append((_pattern(line), neg))
    return out


def ignored(patterns, rel):
    """Whether the context-relative path is excluded: by itself or a parent directory."""
    parts = rel.split("/")
    candidates = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    hit = False
    for rx, neg in patterns:
        if any(rx.match(c) for c in candidates):
            hit = not neg
    return hit


class Context:
    """The context directory (None: `build -`, there is none) and its .dockerignore."""

    def __init__(self, root):
        self.root = os.path.realpath(root) if root else None
        self.tmp = None
        self.patterns = []
        if self.root and os.path.isfile(os.path.join(self.root, ".dockerignore")):
            with open(os.path.join(self.root, ".dockerignore")) as f:
                self.patterns = read_ignore(f.read())

    def close(self):
        if self.tmp:
            import shutil
            shutil.rmtree(self.tmp, ignore_errors=True)

    def heredoc(self, doc):
        """`COPY <<EOF /file`: the heredoc's content as a source file named after it."""
        import tempfile
        self.tmp = self.tmp or tempfile.mkdtemp(prefix="bocker-build-")
        path = os.path.join(self.tmp, doc.name)
        with open(path, "w") as f:
            f.write(doc.content)
        return Source(doc.name, path)

    def sources(self, src, cmd):
        """What `src` names in the context: wildcards expanded, ignored files left out."""
        import glob
        import posixpath
        if self.root is None:
            raise BockerError(f"{cmd} failed: no build context (the Dockerfile came from stdin): {src}")
        rel = posixpath.normpath(src.lstrip("/"))
        if rel == ".." or rel.startswith("../"):
            raise BockerError(f"{cmd} failed: forbidden path outside the build context: {src}")
        if glob.has_magic(rel):
            paths = sorted(glob.glob(os.path.join(self.root, rel)))
            found = [self._source(p, src, cmd, many=True) for p in paths if not self._ignored(p)]
        else:
            path = os.path.join(self.root, rel) if rel != "." else self.root
            found = [self._source(path, src, cmd)] if os.path.lexists(path) and not self._ignored(path) else []
        if not found:
            raise BockerError(f"{cmd} failed: file not found in build context or excluded by .dockerignore: "
                              f"stat {src}: file does not exist")
        return found

    def _ignored(self, path):
        rel = os.path.relpath(path, self.root)
        return rel != "." and ignored(self.patterns, rel)

    def _source(self, path, src, cmd, many=False):
        real = os.path.realpath(path)
        if real != self.root and not real.startswith(self.root + os.sep):
            raise BockerError(f"{cmd} failed: forbidden path outside the build context: {src} ({real})")
        files = _walk(real, lambda p: self._ignored(p)) if os.path.isdir(real) else None
        return Source(os.path.basename(path), real, many, files)


def _walk(top, skip):
    """(relative name, path) of everything under `top`, parents first, `skip`ped ones left out."""
    out = []
    for root, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if not skip(os.path.join(root, d)))
        for name in dirs + sorted(files):
            path = os.path.join(root, name)
            if name in files and skip(path):
                continue
            out.append((os.path.relpath(path, top), path))
    return out


def sources_in_root(root, src):
    """`COPY --from=`: what `src` names in a stage's or an image's files (resolved inside them)."""
    import glob
    if glob.has_magic(src):
        paths = sorted(glob.glob(os.path.join(root, src.lstrip("/"))))
        found = [resolve_in(root, os.path.relpath(p, root)) for p in paths]
    else:
        found = [resolve_in(root, src)] if os.path.lexists(resolve_in(root, src)) else []
    if not found:
        raise BockerError(f"COPY failed: stat {src}: file does not exist")
    return [Source(os.path.basename(p.rstrip("/")) or "/", p, glob.has_magic(src),
                   _walk(p, lambda _: False) if os.path.isdir(p) else None) for p in found]


def resolve_in(root, path):
    """`path` inside `root` with its symlinks followed as if root were `/`: never outside it
    (the init's own resolver, init.inside)."""
    from .. import init
    try:
        return init.inside(root, path)
    except init.InitError as e:
        raise BockerError(str(e))


def owner(root, spec):
    """`--chown=user[:group]` -> (uid, gid), names read from the image's /etc/passwd and /etc/group;
    a user alone gives its number as the group too, as Docker does."""
    user, _, group = spec.partition(":")
    uid = _id(root, "/etc/passwd", user, spec)
    return uid, _id(root, "/etc/group", group, spec) if group else uid


def _id(root, table, name, spec):
    if name.isdigit():
        return int(name)
    try:
        with open(resolve_in(root, table)) as f:
            for line in f:
                fields = line.split(":")
                if fields[0] == name and len(fields) > 2:
                    return int(fields[2])
    except OSError:
        pass
    raise BockerError(f"unable to convert uid/gid chown string to host mapping: {spec}: no {name} in {table}")


def copy_in(root, source, dest, into_dir, own, mode, extract=False):
    """Copy one source to `dest` (an absolute path in the image at `root`): a directory's
    contents into it, a file to it (or into it when `into_dir`); ADD's local tars extracted."""
    if extract and not source.is_dir and _is_tar(source.path):
        return _extract(root, source.path, dest)
    if source.is_dir:
        _mkdir(root, dest, own, mode)
        for rel, path in source.files:
            _copy_one(root, path, os.path.join(dest, rel), own, mode)
    else:
        _copy_one(root, source.path, os.path.join(dest, source.name) if into_dir else dest, own, mode)


def _mkdir(root, dest, own, mode):
    target = resolve_in(root, dest)
    if not os.path.isdir(target):
        os.makedirs(target)
        os.lchown(target, *own)
        if mode is not None:
            os.chmod(target, mode)


def _copy_one(root, path, dest, own, mode):
    import shutil
    parent = resolve_in(root, os.path.dirname(dest.rstrip("/")) or "/")
    os.makedirs(parent, exist_ok=True)
    target = os.path.join(parent, os.path.basename(dest.rstrip("/")))
    st = os.lstat(path)
    if os.path.isdir(path) and not os.path.islink(path):
        if not os.path.isdir(target):
            _remove(target)
            os.mkdir(target)
        os.chmod(target, st.st_mode & 0o7777)
    else:
        if os.path.isdir(target) and not os.path.islink(target):
            raise BockerError(f"cannot copy to {dest}: it is a directory in the image")
        _remove(target)
        if os.path.islink(path):
            os.symlink(os.readlink(path), target)
        else:
            shutil.copy2(path, target, follow_symlinks=False)
    os.lchown(target, *own)
    if mode is not None and not os.path.islink(target):
        os.chmod(target, mode)


def _remove(path):
    if os.path.lexists(path) and not (os.path.isdir(path) and not os.path.islink(path)):
        os.unlink(path)


def _is_tar(path):
    import tarfile
    try:
        return tarfile.is_tarfile(path)
    except OSError:
        return False


def _extract(root, path, dest):
    """ADD of a local tar: its entries applied inside the image (layers.apply refuses escapes)."""
    from .. import layers
    target = resolve_in(root, dest)
    os.makedirs(target, exist_ok=True)
    with open(path, "rb") as f:
        try:
            layers.apply(f, target)
        except layers.LayerError as e:
            raise BockerError(f"ADD {os.path.basename(path)}: {e}")
