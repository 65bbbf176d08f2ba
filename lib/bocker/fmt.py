"""How things are shown: Docker's table layout, human times and sizes, jq formats."""
import json
import sys
import time
from datetime import datetime, timezone

from . import BockerError


def now_iso():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text):
    if not text or text.startswith("0001-"):
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def human_duration(seconds):
    """Docker's units.HumanDuration: 'Less than a second', '5 seconds', 'About a minute', ..."""
    s = int(seconds)
    if s < 1:
        return "Less than a second"
    if s == 1:
        return "1 second"
    if s < 60:
        return f"{s} seconds"
    m = s // 60
    if m == 1:
        return "About a minute"
    if m < 60:
        return f"{m} minutes"
    h = round(s / 3600)
    if h == 1:
        return "About an hour"
    if h < 48:
        return f"{h} hours"
    if h < 24 * 7 * 2:
        return f"{h // 24} days"
    if h < 24 * 30 * 2:
        return f"{h // 24 // 7} weeks"
    if h < 24 * 365 * 2:
        return f"{h // 24 // 30} months"
    return f"{h // 24 // 365} years"


def ago(iso):
    t = parse_iso(iso)
    return human_duration(time.time() - t) + " ago" if t else ""


def human_size(n):
    """Docker's decimal sizes: 4.26MB, 1.2GB."""
    n = float(n or 0)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.3g}{unit}"
        n /= 1000


def parse_size(text, what="size", minimum=1):
    """Docker's sizes (go-units RAMInBytes, binary units): 64m, 1g, 512kb, 2MiB, 1.5g, 1048576 -> bytes.
    The one size parser: --memory (with its own minimum), --shm-size, --log-opt max-size (0 allowed)."""
    t = str(text).strip().lower()
    t = t[:-1] if t.endswith("b") else t
    t = t[:-1] if t.endswith("i") else t
    unit = t[-1:] if t[-1:] in ("k", "m", "g", "t", "p") else ""
    number = t[:len(t) - len(unit)].rstrip()
    try:
        size = int(float(number) * 1024 ** ("_kmgtp".index(unit or "_")))
    except (ValueError, OverflowError):
        raise BockerError(f"invalid {what}: {text!r}") from None
    if size < minimum or number.startswith("-"):
        raise BockerError(f"invalid {what}: {text!r}: it must be at least {minimum}")
    return size


def table(headers, rows, out=None):
    """Columns padded to the widest cell and separated by three spaces, as docker prints them."""
    out = out or sys.stdout
    widths = [max(len(str(r[i])) for r in [headers] + rows) for i in range(len(headers))]
    for r in [headers] + rows:
        cells = [str(c).ljust(w) for c, w in zip(r, widths)]
        out.write("   ".join(cells).rstrip() + "\n")


def go_template_to_jq(template):
    """docker's simple Go templates, '{{.ID}}\\t{{.State.Pid}}', as a jq string interpolation."""
    import re
    parts = re.split(r"{{\s*(\.[A-Za-z0-9_.]*)\s*}}", template)
    if any("{{" in p or "}}" in p for p in parts[::2]):
        return None  # more than plain fields: not supported
    text = "".join(json.dumps(p)[1:-1] if i % 2 == 0 else f"\\({p if p != '.' else '.'})"
                   for i, p in enumerate(parts))
    return f'"{text}"'


def emit(objects, fmt, as_array=False):
    """Print records: --format json (one per line, or an array) or a jq filter on each
    (a docker-style '{{.Field}}' template is applied to each record, as docker does)."""
    if fmt.replace(" ", "") == "{{json.}}":
        fmt = "json"
    if "{{" in fmt:
        from . import BockerError
        program = go_template_to_jq(fmt.replace("\\t", "\t").replace("\\n", "\n"))
        if program is None:
            raise BockerError("--format: only {{.Field}} templates are understood; use a jq filter")
        return emit(objects, program)
    if fmt == "json":
        if as_array:
            print(json.dumps(objects, indent=4))
        else:
            for o in objects:
                print(json.dumps(o))
        return
    from . import BockerError
    import jq
    try:
        program = jq.compile(fmt)
        for value in ([objects] if as_array else objects):
            for result in program.input_value(value).all():
                print(result if isinstance(result, str) else json.dumps(result))
    except ValueError as e:
        message = " ".join(line.strip() for line in str(e).splitlines() if line.strip())
        raise BockerError(f"invalid --format filter: {message}")
