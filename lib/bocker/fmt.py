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


def parse_filters(items, keys):
    """--filter KEY=VALUE (repeatable) -> {key: [values]}: same key ORs, different keys AND."""
    out = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not eq or key not in keys:
            raise BockerError(f"invalid filter '{item}' ({', '.join(k + '=' for k in keys)})")
        out.setdefault(key, []).append(value)
    return out


def label_match(labels, spec):
    """A label= filter's value: KEY (present) or KEY=VALUE (equal)."""
    key, eq, value = spec.partition("=")
    return key in (labels or {}) and (not eq or labels[key] == value)


def check_bool_filter(filters, key):
    for value in filters.get(key, []):
        if value.lower() not in ("true", "false", "1", "0"):
            raise BockerError(f"invalid filter '{key}={value}': true or false")


def labels_text(labels):
    """Docker's {{.Labels}} in listings: k=v,k2=v2."""
    return ",".join(f"{k}={v}" for k, v in sorted((labels or {}).items()))


def for_template(rows, sizes=("Size",)):
    """Listing rows as Docker's templates see them: labels as k=v,..., sizes human."""
    return [dict(r, **{k: human_size(r[k]) for k in sizes if isinstance(r.get(k), (int, float))},
                 **({"Labels": labels_text(r["Labels"])} if isinstance(r.get("Labels"), dict) else {}))
            for r in rows]


def table(headers, rows, out=None):
    """Columns padded to the widest cell and separated by three spaces, as docker prints them."""
    out = out or sys.stdout
    widths = [max(len(str(r[i])) for r in [headers] + rows) for i in range(len(headers))]
    for r in [headers] + rows:
        cells = [str(c).ljust(w) for c, w in zip(r, widths)]
        out.write("   ".join(cells).rstrip() + "\n")


def is_template(text):
    """A Go template (Docker's --format), not a jq filter: `{{...}}` or a `table` form."""
    return "{{" in text or text.lstrip().startswith("table")


def header(field):
    """Docker's column title of a field: CreatedAt -> CREATED AT."""
    import re
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", field).upper()


def _template_header(template, headers):
    """The `table` header line: each action's first field as its column title (Docker renders
    the template on titles); if/range/end and the like leave nothing."""
    import re

    def title(m):
        body = m[1].strip("- ")
        field = re.search(r"(?<![\w$])\.(\w+)", body)
        if body.split(None, 1)[:1] in (["if"], ["range"], ["with"], ["else"], ["end"]) or not field:
            return ""
        return headers.get(field[1]) or header(field[1])
    return re.sub(r"{{(.*?)}}", title, template, flags=re.S)


def tabwrite(lines, out=None, minwidth=10):
    """Go's tabwriter as Docker sets it (minwidth 10, 20 for top; padding 3): tab-separated cells aligned."""
    out = out or sys.stdout
    rows = [line.split("\t") for line in lines]
    widths = {}
    for r in rows:
        for i, cell in enumerate(r[:-1]):
            widths[i] = max(widths.get(i, minwidth), len(cell) + 3)
    for r in rows:
        out.write("".join(c.ljust(widths[i]) for i, c in enumerate(r[:-1])) + r[-1] + "\n")


def _emit_template(objects, template, headers):
    from . import gotemplate
    text = template.replace("\\t", "\t").replace("\\n", "\n")
    table_form = text.lstrip().startswith("table")
    text = text.lstrip()[5:].strip(" ") if table_form else text.strip(" ")
    nodes = gotemplate.parse(text)
    lines = [gotemplate.execute(nodes, o) for o in objects]
    if table_form:
        tabwrite([_template_header(text, headers or {})] + lines)
    else:
        for line in lines:
            print(line)


def emit(objects, fmt, as_array=False, headers=None):
    """Print records: --format json (one per line, or an array), a Go template on each record
    (`{{.Names}}`, `table {{.ID}}\t{{.Names}}` with `headers`' column titles) as Docker, or a
    jq filter on each record (on the array as a whole with `as_array`: inspect)."""
    if is_template(fmt):
        return _emit_template(objects, fmt, headers)
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
