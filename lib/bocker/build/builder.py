"""The builder: a Dockerfile's stages step by step, as Docker's classic builder prints them.

A filesystem step (RUN, COPY, ADD) works on a writable snapshot of the step before and is kept as
a read-only image, found again by its cache key (build/cache.py); a metadata step (ENV, CMD, ...)
only changes the config, through imageconfig (the one evaluator), and makes no snapshot: the
stage's last config becomes an image at the stage's end. RUN is a container made by
containers.create and run by lifecycle.run_foreground, so --trace shows it as any `run`."""
import os

from .. import BockerError, containers, images, imageconfig, layerstore, lifecycle, shell, store
from . import cache, context as ctxmod, parser

_FS = ("RUN", "COPY", "ADD")
_META = ("ENV", "LABEL", "CMD", "ENTRYPOINT", "WORKDIR", "USER", "EXPOSE", "VOLUME", "STOPSIGNAL", "SHELL",
         "MAINTAINER", "ONBUILD", "HEALTHCHECK")


class Options:
    """What `bocker build` was asked (the CLI's flags)."""
    __slots__ = ("tags", "build_args", "target", "labels", "no_cache", "quiet", "network")

    def __init__(self, tags=(), build_args=None, target=None, labels=None, no_cache=False, quiet=False,
                 network="bridge"):
        self.tags, self.build_args, self.target = list(tags), dict(build_args or {}), target
        self.labels, self.no_cache, self.quiet, self.network = dict(labels or {}), no_cache, quiet, network


class _State:
    """Where a stage is: its last image (None: nothing yet, scratch), the config so far, the cache
    key of the chain, and whether the config changed since that image (a snapshot is owed)."""
    __slots__ = ("image", "config", "key", "pending", "cmd_set")

    def __init__(self, image, config, key):
        self.image, self.config, self.key, self.pending, self.cmd_set = image, config, key, False, False

    def rootfs(self, cfg):
        return images.rootfs(cfg, self.image) if self.image else layerstore.empty_rootfs(cfg)


def _scratch_config():
    return {"architecture": "amd64", "os": "linux", "config": {}, "rootfs": {"type": "layers", "diff_ids": []},
            "history": []}


class Builder:
    """One build: the parsed Dockerfile, the context, the options, `say` for the step lines."""

    def __init__(self, cfg, dockerfile, context, opts, say):
        self.cfg, self.df, self.ctx, self.opts, self.say = cfg, dockerfile, context, opts, say
        self.step, self.done = 0, {}        # stage index -> its final _State

    def build(self):
        """Build the stages the target needs; returns the final image id (tagged)."""
        for w in parser.unused_build_args(self.df, self.opts.build_args):
            self.say(w)
        target = self._target()
        stages = [s for s in self.df.stages if s.index in self._needed(target)]
        self.total = sum(len(s.instructions) + 1 for s in stages)
        gscope = parser.Scope(self.opts.build_args, escape=self.df.escape)
        for ins in self.df.global_args:
            gscope.declare(ins)
        self.global_args = dict(gscope.args)
        for stage in stages:
            last = stage is stages[-1]
            self.done[stage.index] = self._stage(stage, gscope, labels=self.opts.labels if last else {})
        image = self.done[target.index].image
        self.say(f"Successfully built {image[:12]}")
        for tag in self.opts.tags:
            images.add_tag(self.cfg, image, tag)
            self.say(f"Successfully tagged {images.normalize(tag)}")
        return image

    def _target(self):
        if not self.df.stages:
            raise BockerError("the Dockerfile has no FROM instruction")
        if self.opts.target is None:
            return self.df.stages[-1]
        stage = self.df.stage(self.opts.target)
        if stage is None:
            raise BockerError(f"failed to reach build target {self.opts.target} in Dockerfile")
        return stage

    def _needed(self, target):
        """Indexes of the stages the target depends on (FROM, COPY --from, RUN --mount from=)."""
        need, todo = set(), [target]
        while todo:
            s = todo.pop()
            if s.index in need:
                continue
            need.add(s.index)
            refs = [s.base] + [i.flag("from") for i in s.instructions if i.flag("from")]
            refs += [m.get("from") for i in s.instructions for m in _mounts(i) if m.get("from")]
            todo += [d for d in (self.df.stage(r) for r in refs) if d is not None and d.index < s.index]
        return need

    def _next(self, text):
        self.step += 1
        self.say(f"Step {self.step}/{self.total} : {text}")

    # --- a stage ----------------------------------------------------------------------------

    def _stage(self, stage, gscope, labels):
        base = gscope.expand(stage.base)
        self._next(f"FROM {base}" + (f" AS {stage.name}" if stage.name else ""))
        state = self._from(base, stage)
        self.say(f" ---> {state.image[:12] if state.image else 'scratch'}")
        scope = parser.Scope(self.opts.build_args, self.global_args,
                             env=state.config.get("config", {}).get("Env") or (), escape=self.df.escape)
        self._triggers(state, scope, stage)
        for ins in stage.instructions:
            self._next(ins.original)
            self._instruction(state, scope, ins)
        for k, v in labels.items():
            self._meta(state, "LABEL", [f"{k}={v}"], False, f"LABEL {k}={v}")
        return self._finish(state)

    def _from(self, base, stage):
        """The stage's start: scratch, an earlier stage's result, or a local image."""
        if base.lower() == "scratch":
            return _State(None, _scratch_config(), "scratch")
        earlier = self.df.stage(base)
        if earlier is not None and earlier.index < stage.index:
            prev = self.done[earlier.index]
            return _State(prev.image, _copy(prev.config), prev.key)
        try:
            image = images.resolve(self.cfg, base)
        except BockerError:
            raise BockerError(f"pull access denied for {base}: no such image here (bocker builds offline: "
                              f"`bocker pull {base}` first)") from None
        return _State(image, images.config(self.cfg, image), image)

    def _triggers(self, state, scope, stage):
        """The base's ONBUILD triggers, run right after FROM as if written there; the child's config
        drops them, so a grandchild does not run them again (Docker's semantics)."""
        conf = state.config.get("config") or {}
        triggers = conf.get("OnBuild") or []
        if not triggers:
            return
        conf["OnBuild"] = None
        state.key, state.pending = cache.key(state.key, "ONBUILD triggers run"), True
        self.say(f"# Executing {len(triggers)} build trigger{'s' if len(triggers) > 1 else ''}")
        for text in triggers:
            ins = parser.parse_line(text, stage.line, self.df.escape)
            parser.check(ins)
            self._instruction(state, scope, ins)

    def _instruction(self, state, scope, ins):
        if ins.cmd in ("ARG", "ENV"):
            pairs = scope.declare(ins)
            if ins.cmd == "ARG":
                state.key = cache.key(state.key, f"ARG {pairs}")
                return
            words = [f"{k}={v}" for k, v in pairs]
            self._meta(state, "ENV", words, False, "ENV " + " ".join(words))
        elif ins.cmd in _META:
            words = parser.substitute(ins, scope.values(), self.df.escape)
            text = f"{ins.cmd} {_shown(words, ins.json_form)}"
            self._meta(state, ins.cmd, words, ins.json_form, text, flags=ins.flags)
        elif ins.cmd == "RUN":
            self._run(state, scope, ins)
        else:
            self._copy(state, scope, ins)

    def _meta(self, state, cmd, words, json_form, text, flags=()):
        """A config-only step: the evaluator changes the config; no snapshot (one at the stage end)."""
        conf = state.config.setdefault("config", {})
        if cmd == "ENTRYPOINT" and not state.cmd_set:       # Docker: a new ENTRYPOINT drops the base's CMD
            conf["Cmd"] = None
        state.cmd_set |= cmd == "CMD"
        author = imageconfig.apply_words(conf, cmd, words, json_form)
        if author:
            state.config["author"] = author
        if cmd == "HEALTHCHECK" and conf["Healthcheck"]["Test"] != ["NONE"]:
            conf["Healthcheck"].update({_go_name(k): _duration(v) if k != "retries" else int(v) for k, v in flags})
        _history(state.config, f"/bin/sh -c #(nop)  {text}", empty=True)
        state.key = cache.key(state.key, text)
        state.pending = True

    def _finish(self, state):
        """The stage's image: the last step's, or a snapshot with the config the metadata steps made."""
        workdir = state.config.get("config", {}).get("WorkingDir")
        if not state.pending and state.image:
            return state
        if not self.opts.no_cache:
            hit = cache.lookup(self.cfg, state.key)
            if hit:
                state.image, state.config, state.pending = hit, images.config(self.cfg, hit), False
                return state
        work = self._workdir_copy(state)
        try:
            if workdir:
                _mkdir_in(work, workdir)
            image = layerstore.register(self.cfg, work, state.config, parent=state.image, move=True)
        except BaseException:
            _discard(work)
            raise
        cache.remember(self.cfg, state.key, image)
        state.image, state.pending = image, False
        return state

    def _workdir_copy(self, state):
        """A writable snapshot of the stage's files, to change and register."""
        work = self.cfg.path("images", f".build-{os.urandom(6).hex()}")
        store.snapshot(state.rootfs(self.cfg), work)
        return work

    def _cached(self, state, key):
        """A step found in the cache: its image becomes the state (a lookup, no snapshot)."""
        hit = None if self.opts.no_cache else cache.lookup(self.cfg, key)
        if hit:
            state.image, state.config, state.key, state.pending = hit, images.config(self.cfg, hit), key, False
            self.say(" ---> Using cache")
            self.say(f" ---> {hit[:12]}")
        return hit

    def _commit(self, state, source, key, created_by, move):
        """A filesystem step's result: an image of `source` with the config so far, cached."""
        conf = _copy(state.config)
        _history(conf, created_by)
        image = layerstore.register(self.cfg, source, conf, parent=state.image, move=move)
        cache.remember(self.cfg, key, image)
        state.image, state.config, state.key, state.pending = image, conf, key, False
        self.say(f" ---> {image[:12]}")

    # --- RUN --------------------------------------------------------------------------------

    def _run(self, state, scope, ins):
        argv = _run_argv(state.config.get("config", {}), ins)
        args = {k: v for k, v in scope.args.items() if k not in scope.env}
        network = ins.flag("network") or self.opts.network
        key = cache.key(state.key, f"RUN {argv} {sorted(args.items())} {network} {_mounts(ins)}")
        if self._cached(state, key):
            return
        conf = state.config.get("config", {})
        env = list(conf.get("Env") or []) + [f"{k}={v}" for k, v in sorted(args.items())]
        volumes, tmpfs = self._run_mounts(ins)
        opts = containers.RunOptions(command=argv, entrypoint="", env=env, user=conf.get("User") or None,
                                     workdir=conf.get("WorkingDir") or None, network=network,
                                     volumes=volumes, tmpfs=tmpfs)
        source = self._run_source(state)
        try:
            rec = containers.create(self.cfg, source, opts)
        finally:
            if source != state.image:
                images.remove(self.cfg, source, [], force=True)
        try:
            self.say(f" ---> Running in {rec['Id'][:12]}")
            if opts.workdir:
                _mkdir_in(containers.cdir(self.cfg, rec["Id"], "rootfs"), opts.workdir)
            code = self._foreground(rec)
            if code != 0:
                raise BockerError(f"The command '{' '.join(argv)}' returned a non-zero code: {code}", code=1)
            created_by = ("|%d %s " % (len(args), " ".join(f"{k}={v}" for k, v in sorted(args.items()))) if args
                          else "") + (" ".join(argv) if not ins.json_form else _shown(argv, True))
            self._commit(state, containers.cdir(self.cfg, rec["Id"], "rootfs"), key, created_by, move=False)
        finally:
            # volumes too: the anonymous ones of the image's VOLUMEs were the step's own
            containers.remove_record(self.cfg, containers.load(self.cfg, rec["Id"]), force=True, volumes=True)
            self.say(f" ---> Removed intermediate container {rec['Id'][:12]}")

    def _run_mounts(self, ins):
        """RUN --mount: (-v specs, --tmpfs specs). A cache mount is a subvolume per id, kept across
        builds and never part of the image; a bind mount shows a stage's or an image's files, read-only
        unless rw."""
        volumes, tmpfs = [], []
        for m in _mounts(ins):
            kind, target = m.get("type", "bind"), m.get("target") or m.get("dst") or m.get("destination")
            if not target:
                raise BockerError(f"Dockerfile:{ins.line}: RUN --mount needs a target")
            if kind == "cache":
                volumes.append(f"{self._cache_mount(m.get('id') or target)}:{target}")
            elif kind == "tmpfs":
                tmpfs.append(target)
            elif kind == "bind":
                root = self._from_root(m.get("from")) if m.get("from") else self.ctx.root
                if root is None:
                    raise BockerError(f"Dockerfile:{ins.line}: RUN --mount=type=bind: no build context")
                src = ctxmod.resolve_in(root, m.get("source") or m.get("src") or "/")
                rw = m.get("rw") in ("", "true") or m.get("readwrite") in ("", "true")
                volumes.append(f"{src}:{target}" + ("" if rw else ":ro"))
            else:
                raise BockerError(f"Dockerfile:{ins.line}: RUN --mount type {kind} is not supported")
        return volumes, tmpfs

    def _cache_mount(self, cache_id):
        import hashlib
        path = self.cfg.path("build-mounts", hashlib.sha256(cache_id.encode()).hexdigest()[:32])
        if not os.path.exists(path):
            shell.do(f"mkdir -p {self.cfg.path('build-mounts')}", os.makedirs, self.cfg.path("build-mounts"),
                     exist_ok=True)
            store.create_subvolume(path)
        return path

    def _from_root(self, ref):
        """The files of a stage built earlier in this build, or of a local image."""
        stage = self.df.stage(ref)
        if stage is not None and stage.index in self.done:
            return images.rootfs(self.cfg, self.done[stage.index].image)
        return images.rootfs(self.cfg, images.resolve(self.cfg, ref))

    def _run_source(self, state):
        """The image a RUN container starts from: the last image, or, for FROM scratch, the empty one."""
        if state.image:
            return state.image
        return images.register(self.cfg, layerstore.empty_rootfs(self.cfg), _scratch_config())

    def _foreground(self, rec):
        """Run the step's container, its output live (none with -q). Ctrl-C (SIGINT, or SIGTERM)
        kills it, whatever its command does with the signal, and stops the build as a failure does
        (KeyboardInterrupt: the callers' clean-up runs, exit 130), as docker build cancels its step."""
        import contextlib
        import signal
        import sys
        saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
        with _Interrupts(lambda: lifecycle.send_signal(self.cfg, rec["Id"], "KILL")) as stop:
            try:
                if not self.opts.quiet:
                    code = lifecycle.run_foreground(self.cfg, rec)
                else:
                    with open(os.devnull, "w") as null, contextlib.redirect_stdout(null):
                        sys.stdout.buffer  # noqa: B018 -- relay writes to sys.stdout.buffer: the null file has one
                        code = lifecycle.run_foreground(self.cfg, rec)
            finally:
                for s, handler in saved.items():    # run's forwarding to the step's container ends with it
                    signal.signal(s, handler)
        if stop.hit:
            raise KeyboardInterrupt
        return code

    # --- COPY and ADD -----------------------------------------------------------------------

    def _copy(self, state, scope, ins):
        words = parser.substitute(ins, scope.values(), self.df.escape)
        *srcs, dest = words
        conf = state.config.get("config", {})
        dest_abs = dest if dest.startswith("/") else os.path.join(conf.get("WorkingDir") or "/", dest)
        if dest.endswith("/") and not dest_abs.endswith("/"):
            dest_abs += "/"
        sources = self._sources(ins, srcs)
        into_dir = dest_abs.endswith("/") or len(srcs) > 1 or any(s.is_dir or s.many for s in sources)
        text = f"{ins.cmd} {' '.join(f'--{k}={v}' for k, v in ins.flags)} {' '.join(words)}".replace("  ", " ")
        digest = cache.tree_hash([(f"{s.name}/{rel}", p) for s in sources for rel, p in s.files])
        key = cache.key(state.key, text, digest)
        if self._cached(state, key):
            return
        work = self._workdir_copy(state)
        try:
            owner = ctxmod.owner(work, ins.flag("chown")) if ins.flag("chown") else (0, 0)
            mode = int(ins.flag("chmod"), 8) if ins.flag("chmod") else None
            for s in sources:
                shell.do(f"cp -a {shell.quote(s.path)} {shell.quote(work + dest_abs)}", ctxmod.copy_in, work, s,
                         dest_abs, into_dir, owner, mode, extract=ins.cmd == "ADD")
            _mkdir_in(work, conf.get("WorkingDir") or "/")
            where = f"{'dir' if any(s.is_dir for s in sources) or len(sources) > 1 else 'file'}:{digest}"
            self._commit(state, work, key, f"/bin/sh -c #(nop) {ins.cmd} {where} in {dest}", move=True)
        except BaseException:
            _discard(work)
            raise

    def _sources(self, ins, srcs):
        """The COPY/ADD sources: from the context (ignore rules, no escape), a stage, an image, a heredoc."""
        heredocs = {h.name: h for h in ins.heredocs}
        out = []
        root = self._from_root(ins.flag("from")) if ins.flag("from") else None
        for src in srcs:
            if src.startswith("<<") and src.lstrip("<-").strip("\"'") in heredocs:
                out.append(self.ctx.heredoc(heredocs[src.lstrip("<-").strip("\"'")]))
            elif "://" in src:
                if ins.cmd == "COPY":
                    raise BockerError(f"COPY {src}: a URL is no COPY source (use ADD)")
                raise BockerError(f"ADD {src}: downloading a URL is refused, bocker builds offline: "
                                  "fetch it into the build context and COPY it")
            elif root is not None:
                out += ctxmod.sources_in_root(root, src)
            else:
                out += self.ctx.sources(src, ins.cmd)
        return out


class _Interrupts:
    """While a RUN step runs, `bocker run`'s handlers forward SIGINT/SIGTERM to the container's
    PID 1, which ignores them unless it has a handler: this sees them too (the interpreter's wakeup
    fd) and calls `kill` from a thread until the step ends."""

    def __init__(self, kill):
        self.kill, self.hit = kill, False

    def __enter__(self):
        import signal
        import threading
        self.r, self.w = os.pipe()
        os.set_blocking(self.w, False)
        self.old = signal.set_wakeup_fd(self.w, warn_on_full_buffer=False)
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()
        return self

    def _watch(self):
        import signal
        while not self.hit:
            data = os.read(self.r, 64)
            if not data:
                return
            self.hit = any(b in (signal.SIGINT, signal.SIGTERM) for b in data)
        while not self.done.is_set():           # (the container may still be starting)
            try:
                self.kill()
            except BockerError:
                pass
            self.done.wait(0.2)

    def __exit__(self, *exc):
        import signal
        signal.set_wakeup_fd(self.old)
        self.done.set()
        os.close(self.w)
        self.thread.join(5)
        os.close(self.r)
        return False


def _mounts(ins):
    """RUN --mount=k=v,k=v options as dicts."""
    return [dict(p.partition("=")[::2] for p in v.split(",")) for n, v in ins.flags if n == "mount" and v]


def _run_argv(conf, ins):
    """RUN's argv: the exec form as written, a shell form (or heredoc script) through SHELL."""
    if ins.json_form:
        return list(ins.args)
    script = ins.args[0]
    if ins.heredocs:
        only = script.strip().lstrip("<-").strip("\"'") == ins.heredocs[0].name and len(ins.heredocs) == 1
        script = ins.heredocs[0].content if only else script + "\n" + "".join(
            h.content + h.name + "\n" for h in ins.heredocs)
    return list(conf.get("Shell") or ["/bin/sh", "-c"]) + [script]


def _shown(words, json_form):
    import json
    return json.dumps(words) if json_form else " ".join(words)


def _history(config, created_by, empty=False):
    from .. import fmt
    entry = {"created": fmt.now_iso(), "created_by": created_by}
    if empty:
        entry["empty_layer"] = True
    config["created"] = entry["created"]
    config.setdefault("history", []).append(entry)


def _copy(config):
    import json
    return json.loads(json.dumps(config))


def _go_name(flag):
    return {"interval": "Interval", "timeout": "Timeout", "start-period": "StartPeriod",
            "start-interval": "StartInterval", "retries": "Retries"}[flag]


def _duration(text):
    """`30s`, `1m30s`, `500ms` -> nanoseconds, as Docker stores a HEALTHCHECK's times."""
    import re
    units = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9, "m": 60e9, "h": 3600e9}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)", text)
    if not parts or "".join(a + b for a, b in parts) != text:
        raise BockerError(f"invalid duration {text!r}")
    return int(sum(float(a) * units[b] for a, b in parts))


def _mkdir_in(root, path):
    """mkdir -p of `path` inside `root`, its symlinks followed within root (never out of it)."""
    target = ctxmod.resolve_in(root, path)
    if not os.path.isdir(target):
        shell.do(f"mkdir -p {shell.quote(target)}", os.makedirs, target, exist_ok=True)


def _discard(work):
    if os.path.exists(work):
        store.delete_subvolume(work)


def build(cfg, text, context_dir, opts, say):
    """Parse `text` and build it with the context at `context_dir` (None: `-`, no context)."""
    df = parser.parse(text)
    for w in df.warnings:
        say(w)
    ctx = ctxmod.Context(context_dir)
    try:
        return Builder(cfg, df, ctx, opts, say).build()
    finally:
        ctx.close()
