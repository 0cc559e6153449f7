"""The package's layout: rooms by job, no import cycle, a light `import session_counter`."""

import ast
import glob
import json
import os
import re
import subprocess
import sys

import click
import pytest

from session_counter.cli import LAZY_COMMANDS, LazyCommand
from session_counter.servers.harness import PROJECT_ROOT

PACKAGE = os.path.join(PROJECT_ROOT, "session_counter")
# What a gunicorn worker must not load: the lab, the simultaneous client, the harness,
# the server launcher, the bench (the CLI commands import them when they run).
HEAVY = ("session_counter.race.lab", "session_counter.race.cli",
         "session_counter.race.simultaneous", "session_counter.servers.harness",
         "session_counter.servers.serve", "session_counter.race.servers",
         "session_counter.bench")


def package_modules():
    """Return {dotted module name: path} of every module of the package."""
    modules = {}
    for folder, _, files in os.walk(PACKAGE):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                parts = os.path.relpath(path, PROJECT_ROOT)[:-3].split(os.sep)
                if parts[-1] == "__init__":
                    parts.pop()
                modules[".".join(parts)] = path
    return modules


def imported_modules(module, path, known):
    """Return the package modules that ``module`` imports, at the top or in a function."""
    is_package = path.endswith("__init__.py")
    found = set()
    for node in ast.walk(ast.parse(open(path).read())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = module.split(".")
            if node.level:
                base = base[:len(base) - node.level + (1 if is_package else 0)]
                base += node.module.split(".") if node.module else []
            else:
                base = node.module.split(".")
            base = ".".join(base)
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                     for alias in node.names]
        else:
            continue
        found.update(name for name in names if name in known)
    return found


def test_no_module_imports_itself_through_others():
    modules = package_modules()
    graph = {m: imported_modules(m, path, modules) for m, path in modules.items()}
    assert graph["session_counter.sessions"] >= {"session_counter.sessions.redis_store"}

    def cycle_from(start):
        """Return a path from ``start`` back to itself, or None."""
        stack, seen = [(start, [start])], set()
        while stack:
            node, trail = stack.pop()
            for nxt in graph[node]:
                if nxt == start:
                    return trail + [start]
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, trail + [nxt]))
        return None

    cycles = [cycle for m in graph if (cycle := cycle_from(m))]
    assert cycles == []


def test_importing_the_app_loads_no_lab_harness_or_bench(tmp_path):
    code = ("import json, sys, session_counter\n"
            f"session_counter.create_app(instance_path={str(tmp_path)!r})\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith('session_counter'))))")
    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout)
    assert "session_counter.web.race_api" in loaded  # the app itself was built
    assert [m for m in loaded if m.startswith(HEAVY)] == []


def test_lazy_commands_load_and_run_their_real_command(runner):
    for name, (_target, help_line) in LAZY_COMMANDS.items():
        listed = runner.app.cli.get_command(None, name)
        assert isinstance(listed, LazyCommand)
        real = listed.load()
        assert isinstance(real, click.Command) and real.help.startswith(help_line)
    result = runner.invoke(args=["race", "--help"])
    assert result.exit_code == 0 and "--same-session" in result.output
    result = runner.invoke(args=["race", "--clients", "0"])
    assert result.exit_code == 2 and "--clients" in result.output


def test_python_m_bench_runs_the_bench_command():
    done = subprocess.run([sys.executable, "-m", "session_counter.bench", "--help"],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Usage: python -m session_counter.bench" in done.stdout
    assert "--redis-url" in done.stdout


def test_rooms_are_small_and_say_what_lives_there():
    modules = package_modules()
    top = [m for m, path in modules.items()
           if m.count(".") == 1 and not path.endswith("__init__.py")]
    assert len(top) + 1 <= 8, top  # + session_counter/__init__.py
    for module, path in modules.items():
        with open(path) as f:
            source = f.read()
        assert source.count("\n") < 300, module
        if path.endswith("__init__.py"):
            assert ast.get_docstring(ast.parse(source)), f"{module} says nothing"


@pytest.mark.parametrize("place", ["session_counter", "scripts", "run.py"])
def test_nothing_outside_tests_imports_from_tests(place):
    path = os.path.join(PROJECT_ROOT, place)
    files = [path] if path.endswith(".py") else [
        os.path.join(folder, name) for folder, _, names in os.walk(path)
        for name in names if name.endswith(".py")]
    assert files
    for file in files:
        for node in ast.walk(ast.parse(open(file).read())):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n == "tests" or n.startswith("tests.") for n in names), file


def test_every_import_inside_a_function_resolves():
    """Imports deferred into functions (start-up checks, commands) name what exists."""
    import importlib

    modules = package_modules()
    for module, path in modules.items():
        is_package = path.endswith("__init__.py")
        for node in ast.walk(ast.parse(open(path).read())):
            if not isinstance(node, ast.ImportFrom) or not node.level:
                continue
            base = module.split(".")
            base = base[:len(base) - node.level + (1 if is_package else 0)]
            target = ".".join(base + (node.module.split(".") if node.module else []))
            imported = importlib.import_module(target)
            for alias in node.names:
                assert hasattr(imported, alias.name) or f"{target}.{alias.name}" in modules, \
                    f"{module}: from {target} import {alias.name}"


def test_readme_is_a_front_door_that_links_every_deep_dive():
    with open(os.path.join(PROJECT_ROOT, "README.md")) as f:
        readme = f.read()
    assert len(readme) < 15_000
    linked = set(re.findall(r"\]\((docs/[\w.-]+\.md)\)", readme))
    assert {f"docs/{name}.md" for name in ("race-lab", "scale-out", "faults", "benchmarks",
                                           "security", "configuration")} <= linked
    for path in linked:
        assert os.path.exists(os.path.join(PROJECT_ROOT, path)), path


def layout_map():
    """The paths docs/layout.md's tree names: each .py/.sh under the folders above it."""
    with open(os.path.join(PROJECT_ROOT, "docs", "layout.md")) as f:
        tree = f.read().split("```")[1]
    folders, named = [], set()  # folders: (indent, name) of the folders this line is in
    for line in tree.splitlines():
        indent = len(line) - len(line.lstrip())
        first = line.split()[0] if line.strip() else ""
        if first.endswith("/"):
            while folders and folders[-1][0] >= indent:
                folders.pop()
            folders.append((indent, first.rstrip("/")))
            # a package's line stands for its __init__.py (whose docstring says the same)
            init = "/".join(name for _, name in folders) + "/__init__.py"
            if os.path.exists(os.path.join(PROJECT_ROOT, init)):
                named.add(init)
            continue
        if indent == 0:
            folders = []
        prefix = "/".join(name for _, name in folders)
        for file_name in re.findall(r"\b[\w]+\.(?:py|sh)\b", line):
            named.add(f"{prefix}/{file_name}" if prefix else file_name)
    return named


def test_the_layout_map_names_every_module_and_script_and_nothing_gone():
    named = layout_map()
    modules = {os.path.relpath(path, PROJECT_ROOT)
               for folder in ("session_counter", "scripts")
               for path in glob.glob(os.path.join(PROJECT_ROOT, folder, "**", "*.*"),
                                     recursive=True)
               if path.endswith((".py", ".sh"))}
    assert modules - named == set(), "not in docs/layout.md"
    assert {path for path in named if not os.path.exists(os.path.join(PROJECT_ROOT, path))} \
        == set(), "named in docs/layout.md but gone"
