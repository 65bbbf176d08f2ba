"""The import rule of design.md section 2, read from the source with `ast`: dependencies point down
(leaves -> runner -> resources -> orchestrators -> CLI), no circles, init.py stands alone, and the
heavy modules are imported inside the functions that need them, never at a module's top level."""
import ast
import os
import sys

import pytest

LIB = os.path.join(os.path.dirname(__file__), "..", "..", "lib", "bocker")

# module (dotted, under bocker) -> layer; a module may import its own layer or lower ones
LAYERS = {
    "": 0, "fmt": 0, "config": 0, "imageconfig": 0, "build": 0, "build.parser": 0, "layers": 0,
    "terminal": 0, "logs": 0, "init": 0, "security": 0, "gotemplate": 0,
    "shell": 1,
    # the registry client sits on the runner (its --trace/--dry-run lines), as the resources do
    "registry": 2, "events": 2, "store": 2, "cgroups": 2, "userns": 2, "devicefilter": 2, "network": 2, "volumes": 2, "images": 2, "layerstore": 2,
    "containers": 3, "lifecycle": 3, "containercp": 2, "changes": 2, "stats": 3, "runtime": 3, "transfer": 3,
    "archive": 3, "endpoints": 3,
    "build.builder": 3, "build.cache": 3, "build.context": 3,
    "cli": 4,
}
# The one module outside cli that may import build, and only its pure parser: `commit -c` and
# `import -c` lines are read by the Dockerfile parser (issue 11), both leaves.
BUILD_USERS = {("imageconfig", "build.parser")}
HEAVY = {"plumbum", "requests", "jq", "tqdm", "zstandard", "dataclasses", "typing", "enum", "ctypes"}
# Known crossings of the rule, each to go with the step that removes it (none may be added).
KNOWN = {
    ("terminal", "logs"),        # the pty copier writes through logs.Writer (a leaf to a leaf)
}


def modules():
    """{dotted name: path} of every module of the package."""
    out = {}
    for root, _, files in os.walk(LIB):
        for f in files:
            if f.endswith(".py"):
                rel = os.path.relpath(os.path.join(root, f), LIB)[:-3].replace(os.sep, ".")
                out[rel[:-len(".__init__")] if rel.endswith("__init__") else ("" if rel == "__init__" else rel)] = \
                    os.path.join(root, f)
    return out


def layer_of(name):
    while name not in LAYERS:
        name = name.rpartition(".")[0]
    return LAYERS[name]


def imports(name, path):
    """[(imported module of bocker or top-level name, at top level?)] of one module."""
    tree = ast.parse(open(path).read())
    package = name if path.endswith("__init__.py") else name.rpartition(".")[0]
    top = {id(n) for n in tree.body}
    for n in ast.walk(tree):
        if isinstance(n, ast.If) and id(n) in top:  # `if __name__ == ...` bodies count as top level
            top.update(id(c) for c in n.body)
    out = []
    for n in ast.walk(tree):
        at_top = id(n) in top
        if isinstance(n, ast.Import):
            out += [("!" + a.name, at_top) for a in n.names]
        elif isinstance(n, ast.ImportFrom):
            if not n.level:
                out.append(("!" + n.module, at_top))
                continue
            base = package.split(".") if package else []
            base = base[:len(base) - (n.level - 1)] if n.level > 1 else base
            mod = ".".join(base + ([n.module] if n.module else []))
            for a in n.names:  # `from . import shell` imports the module bocker.shell
                sub = f"{mod}.{a.name}" if mod else a.name
                out.append((sub if sub in MODULES else mod, at_top))
    return out


MODULES = modules()


@pytest.mark.parametrize("name", sorted(MODULES))
def test_dependencies_point_down(name):
    for dep, _ in imports(name, MODULES[name]):
        if dep.startswith("!") or dep == name or (name, dep.split(".")[0]) in KNOWN:
            continue
        assert layer_of(dep) <= layer_of(name), f"{name or 'bocker'} (layer {layer_of(name)}) imports " \
                                                f"{dep} (layer {layer_of(dep)})"


def test_network_never_reads_a_container_record_and_only_cli_imports_build():
    for name, path in MODULES.items():
        deps = {d for d, _ in imports(name, path)}
        if name.startswith("network"):
            assert not deps & {"containers", "lifecycle"}, name
        if not name.startswith(("cli", "build")):
            assert all((name, d) in BUILD_USERS for d in deps if d.startswith("build")), name


def test_init_imports_only_os_ctypes_sys():
    # and modules built into the interpreter (_signal): after pivot_root no file can be imported
    allowed = {"!os", "!ctypes", "!sys"} | {"!" + m for m in sys.builtin_module_names}
    assert {d for d, _ in imports("init", MODULES["init"])} <= allowed


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n != "init"))
def test_heavy_modules_are_imported_inside_functions(name):
    for dep, at_top in imports(name, MODULES[name]):
        if at_top and dep.startswith("!"):
            assert dep[1:].split(".")[0] not in HEAVY, f"{name} imports {dep[1:]} at top level"


def test_no_import_circles():
    graph = {n: {d for d, _ in imports(n, p) if not d.startswith("!") and d != n} for n, p in MODULES.items()}
    graph = {n: {d for d in deps if (n, d) not in KNOWN and (d, n) not in KNOWN} for n, deps in graph.items()}

    def visit(n, path):
        assert n not in path, "import circle: " + " -> ".join(path[path.index(n):] + [n])
        for d in graph.get(n, ()):
            visit(d, path + [n])
    for n in graph:
        visit(n, [])
