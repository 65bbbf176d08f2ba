"""`bocker events`: what happened to containers, images, networks and volumes, from the store's
append-only events log."""
import sys

from .verbs import arg, verb


@verb("events", arg("--since", help="events since: RFC 3339 time, Unix time, or a duration ago (10m)"),
      arg("--until", help="events until (then exit): RFC 3339 time, Unix time, or a duration ago"),
      arg("-f", "--filter", action="append", default=[], metavar="KEY=VALUE",
          help="type=, event=, container=, image=, label=KEY[=VALUE], network=, volume="),
      arg("--format", metavar="FORMAT", help="json, a Go template ('{{json .}}', '{{.Action}}') or a jq filter"))
def cmd_events(cfg, a):
    """Show the store's events as they happen (and the past ones, with --since).

    Without --until, follows the log until Ctrl-C."""
    import time
    from .. import events, fmt, logs
    filters = events.parse_filters(a.filter)
    now = time.time()
    since = logs.parse_time(a.since, now) if a.since else None
    until = logs.parse_time(a.until, now) if a.until else None
    # Docker: no --since shows only what happens from now on (unless --until bounds the past)
    past, position = events.read(cfg, since if since is not None or until is not None else now + 1, until, filters)

    def emit(event):
        if a.format:
            fmt.emit([event], a.format)
        else:
            print(events.line(event))
        sys.stdout.flush()
    for event in past:
        emit(event)
    if until is None or until > now:
        events.follow(cfg, emit, position, until, filters)
