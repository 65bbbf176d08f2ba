"""The build verb: a Dockerfile and its context -> an image, step by step."""
import os
import sys

from .. import BockerError
from .verbs import arg, verb


def _pairs(items, what):
    """K=V flags -> dict; a bare K takes the value from the environment, as docker's --build-arg."""
    out = {}
    for item in items or ():
        key, eq, value = item.partition("=")
        if not key:
            raise BockerError(f"invalid {what}: {item!r}")
        if eq or key in os.environ:
            out[key] = value if eq else os.environ[key]
    return out


def _dockerfile(a):
    """(the Dockerfile's text, the context directory or None) for CONTEXT or `-`."""
    if a.context == "-":
        return sys.stdin.read(), None
    if not os.path.isdir(a.context):
        raise BockerError(f"unable to prepare context: path {a.context!r} not found", code=1)
    path = a.file or os.path.join(a.context, "Dockerfile")
    if a.file == "-":
        return sys.stdin.read(), a.context
    if not os.path.isfile(path):
        raise BockerError(f"unable to prepare context: Cannot locate specified Dockerfile: {path}", code=1)
    with open(path) as f:
        return f.read(), a.context


@verb("build", arg("-t", "--tag", action="append", default=[], help="NAME[:TAG] for the result (repeatable)"),
      arg("-f", "--file", help="the Dockerfile (default CONTEXT/Dockerfile; - for stdin)"),
      arg("--build-arg", action="append", default=[], metavar="K=V", help="a build argument (repeatable)"),
      arg("--target", help="the stage to build (by name or index)"),
      arg("--label", action="append", default=[], metavar="K=V", help="a label on the image (repeatable)"),
      arg("--no-cache", action="store_true", help="run every step, reuse no cached one"),
      arg("-q", "--quiet", action="store_true", help="print only the image id"),
      arg("--iidfile", help="write the image id to this file"),
      arg("--network", default="bridge", help="RUN's network: bridge (default), none, host"),
      arg("context", help="the context directory, or - for a Dockerfile on stdin and no context"))
def cmd_build(cfg, a):
    """Build an image from a Dockerfile (each step a btrfs snapshot, cached).

    Output as Docker's classic builder; a failing RUN stops the build with exit 1 (as docker build),
    Ctrl-C with 130, a Dockerfile that does not parse with 125; nothing half-made is left."""
    from .. import images
    from ..build import builder
    for tag in a.tag:
        if not images.valid_ref(images.normalize(tag)):
            raise BockerError(f"invalid reference format: '{tag}'")
    text, context = _dockerfile(a)
    opts = builder.Options(tags=a.tag, build_args=_pairs(a.build_arg, "--build-arg"), target=a.target,
                           labels=_pairs(a.label, "--label"), no_cache=a.no_cache, quiet=a.quiet,
                           network=a.network)
    image = builder.build(cfg, text, context, opts, say=(lambda _: None) if a.quiet else _say)
    if a.iidfile:
        with open(a.iidfile, "w") as f:
            f.write("sha256:" + image)
    if a.quiet:
        print("sha256:" + image)


def _say(line):
    print(line, flush=True)
