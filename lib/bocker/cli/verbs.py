"""How a verb is declared: @verb(name, *arguments) on a function whose docstring is its help;
the argument groups several nouns share; and the docker-style loop over several references."""
import sys

from .. import BockerError, NotFound

VERBS = {}  # name -> (function, arguments, needs a store), filled as the noun modules load


def arg(*flags, **kwargs):
    return flags, kwargs


def verb(name, *arguments, store=True):
    """Register a verb; `store=False` verbs run without a btrfs store (setup, teardown)."""
    def register(fn):
        VERBS[name] = (fn, arguments, store)
        return fn
    return register


FORMAT = arg("--format", metavar="FORMAT",
             help="json; a Go template as Docker's when it has {{ or starts with table "
                  "('{{.Names}}', 'table {{.ID}}\\t{{.Names}}', '{{json .State}}'); "
                  "otherwise a jq filter ('.Names')")
QUIET = arg("-q", "--quiet", action="store_true", help="no progress output")
INSECURE = arg("--insecure", action="store_true",
               help="plain HTTP (also: BOCKER_INSECURE_REGISTRIES=host:port,...)")


FORCE = arg("-f", "--force", action="store_true", help="do not ask for a confirmation")

PRUNE_FILTER = arg("--filter", action="append", default=[], metavar="KEY=VALUE",
                   help="until=TIME|DURATION (created before), label=KEY[=VALUE], label!=KEY[=VALUE]")


def prune_match(items):
    """prune --filter -> match(created, labels), or None: until= (RFC 3339, Unix time, or a
    duration ago: 24h), label= (all must match), label!= (none may)."""
    from .. import fmt, logs
    filters = fmt.parse_filters(items, ("until", "label", "label!"))
    if not filters:
        return None
    until = [logs.parse_time(t) for t in filters.get("until", [])]

    def match(created, labels):
        t = fmt.parse_iso(created) or 0
        return (all(t < u for u in until) and all(fmt.label_match(labels, v) for v in filters.get("label", []))
                and not any(fmt.label_match(labels, v) for v in filters.get("label!", [])))
    return match


DEFAULT_IMAGE = "busybox:latest"  # made by `bocker setup` from the host's busybox: no pull needed


def confirm(warning, force):
    """Docker's prune prompt (on stdout): `WARNING! ...` then `Are you sure you want to continue?
    [y/N]`; the answer is a line of stdin, terminal or not (EOF: no). -f: no question."""
    if force:
        return True
    sys.stdout.write(f"WARNING! {warning}\nAre you sure you want to continue? [y/N] ")
    sys.stdout.flush()
    answer = sys.stdin.readline()
    return answer.strip().lower() in ("y", "yes")


def default_image_warning(cfg, all_, records):
    """The prompt's line for prune -a when it would take the default image (unused, so removable):
    it cannot be pulled back offline."""
    from .. import images
    try:
        image_id = images.resolve(cfg, DEFAULT_IMAGE)
    except BockerError:
        return ""
    if not all_ or any(r.get("Image") == image_id for r in records):
        return ""
    return (f"\n  - the default image {DEFAULT_IMAGE} too (bocker cannot pull it offline: "
            f"`bocker setup` makes it again)")


def pruned(title, lines):
    """A prune's section, as Docker prints it: `Deleted Containers:`, one line each, a blank line."""
    if lines:
        print(f"{title}:")
        for line in lines:
            print(line)
        print()


def reclaimed(total):
    from .. import fmt
    print(f"Total reclaimed space: {fmt.human_size(total)}")


def each(refs, action, missing_ok=False):
    """Apply an action to each reference, docker-style: print each ref, report errors, exit 1.
    `missing_ok` (rm -f and the like): a reference to nothing is passed over in silence."""
    failed = False
    for ref in refs:
        try:
            out = action(ref)
            print(ref if out is None else out)
        except NotFound as e:
            if not missing_ok:
                print(f"bocker: {e}", file=sys.stderr)
                failed = True
        except BockerError as e:
            print(f"bocker: {e}", file=sys.stderr)
            failed = True
    return 1 if failed else 0
