"""The OCI image config: how bocker writes one (byte for byte as Go does) and the one evaluator
of Dockerfile-style instructions that change it (commit -c, import -c; the builder next)."""
import json

from . import BockerError


_IMAGE_ORDER = ("created", "author", "architecture", "os", "os.version", "os.features", "variant", "config",
                "rootfs", "history")


_CONFIG_ORDER = ("User", "ExposedPorts", "Env", "Entrypoint", "Cmd", "Volumes", "WorkingDir", "Labels",
                 "StopSignal", "ArgsEscaped")


_HISTORY_ORDER = ("created", "created_by", "author", "comment", "empty_layer")


def _go_time(t):
    """RFC 3339 with trailing fractional zeros dropped, as Go writes times."""
    if isinstance(t, str) and "." in t and t.endswith("Z"):
        head, frac = t[:-1].split(".", 1)
        frac = frac.rstrip("0")
        return f"{head}.{frac}Z" if frac else head + "Z"
    return t


def _ordered(d, order):
    out = {k: d[k] for k in order if k in d}
    out.update((k, d[k]) for k in sorted(d) if k not in out)
    return out


def config_bytes_of(config):
    """An image config serialised as Go's image-spec structs are (field order, compact, HTML
    escapes): skopeo/podman re-encode configs that way, so ids survive their round trips."""
    c = dict(config)
    if "created" in c:
        c["created"] = _go_time(c["created"])
    if isinstance(c.get("config"), dict):
        c["config"] = _ordered({k: v for k, v in c["config"].items() if v not in (None, "", [], {}, False)},
                               _CONFIG_ORDER)
        for k in ("ExposedPorts", "Volumes", "Labels"):      # Go maps: sorted keys
            if isinstance(c["config"].get(k), dict):
                c["config"][k] = dict(sorted(c["config"][k].items()))
    if isinstance(c.get("rootfs"), dict):
        c["rootfs"] = _ordered(c["rootfs"], ("type", "diff_ids"))
    if isinstance(c.get("history"), list):
        c["history"] = [_ordered({k: v for k, v in dict(h, created=_go_time(h.get("created"))).items()
                                  if v not in (None, "", False)}, _HISTORY_ORDER) for h in c["history"]]
    c = _ordered({k: v for k, v in c.items() if v not in (None, "") or k in ("architecture", "os")}, _IMAGE_ORDER)
    text = json.dumps(c, separators=(",", ":"), ensure_ascii=False)
    for a, b in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                 ("\u2029", "\\u2029")):
        text = text.replace(a, b)
    return text.encode()


_CHANGES = ("CMD", "ENTRYPOINT", "ENV", "WORKDIR", "USER", "LABEL", "EXPOSE", "STOPSIGNAL")


def apply(config, change):
    """Apply one Dockerfile instruction (`commit -c`, `import -c`) to an image's runtime config:
    CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL, EXPOSE, STOPSIGNAL. The line is read by the Dockerfile parser;
    `$VAR`s are kept as written (there is no build to substitute them from), quotes are removed."""
    from .build import parser
    ins = parser.parse_line(change)
    if ins is None or ins.cmd not in _CHANGES:      # Docker's own words for a commit change
        raise BockerError(f"{ins.cmd if ins else repr(change)} is not a valid change command")
    parser.check(ins)
    args = ins.args
    if ins.cmd in ("CMD", "ENTRYPOINT") and not ins.json_form and args[0].startswith("["):
        # a Dockerfile would run it as a shell command; on a -c line it is a mistyped array
        raise BockerError(f"invalid JSON in change: {change}")
    if ins.cmd in ("ENV", "LABEL"):     # `k=v`, `k="v 2"`, `"k=v 2"`: quotes removed, `$` kept
        args = [parser.expand(word, None) for word in args]
    apply_words(config, ins.cmd, args, ins.json_form)


def apply_words(config, cmd, args, json_form=False):
    """Apply one instruction whose words are final (quotes removed; the builder has substituted
    its variables): the `commit -c` changes plus the build-only VOLUME, STOPSIGNAL, SHELL,
    MAINTAINER (returned as the author), ONBUILD and HEALTHCHECK (its words as parsed)."""
    if cmd in ("CMD", "ENTRYPOINT"):
        shell_form = list(config.get("Shell") or ["/bin/sh", "-c"]) + [args[0]] if not json_form else None
        config["Cmd" if cmd == "CMD" else "Entrypoint"] = args if json_form else shell_form
    elif cmd in ("ENV", "LABEL"):
        for word in args:       # the legacy `ENV k v` comes as one `k=v`
            key, _, value = word.partition("=")
            if cmd == "ENV":
                config["Env"] = [e for e in config.get("Env") or [] if e.partition("=")[0] != key] + \
                    [f"{key}={value}"]
            else:
                config.setdefault("Labels", {})[key] = value
    elif cmd == "WORKDIR":      # relative to the one before, as Docker's builder resolves it
        import posixpath
        config["WorkingDir"] = posixpath.normpath(posixpath.join("/", config.get("WorkingDir") or "/", args[0]))
    elif cmd == "USER":
        config["User"] = args[0]
    elif cmd == "EXPOSE":
        for port in args:
            config.setdefault("ExposedPorts", {})[port if "/" in port else port + "/tcp"] = {}
    elif cmd == "VOLUME":
        for path in args:
            config.setdefault("Volumes", {})[path] = {}
    elif cmd == "STOPSIGNAL":
        config["StopSignal"] = args[0]
    elif cmd == "SHELL":
        config["Shell"] = list(args)
    elif cmd == "ONBUILD":
        config["OnBuild"] = list(config.get("OnBuild") or []) + [args[0]]
    elif cmd == "HEALTHCHECK":
        config["Healthcheck"] = {"Test": ["NONE"]} if args[0].upper() == "NONE" else \
            {"Test": ["CMD"] + list(args[1:]) if json_form else ["CMD-SHELL", " ".join(args[1:])]}
    elif cmd == "MAINTAINER":
        return args[0]
    return None
