#!/usr/bin/python3
"""Finds files of Depot's C code that call each other in a circle.

Reads the object files of a build (nm): file A depends on file B when A uses
a symbol B defines. Prints every strongly connected group of more than one
file, per program or library, and exits 1 if there is one; 0 otherwise.

    python3 tests/tools/file_cycles.py <build folder> [<source folder>]

With the source folder, objects whose source file no longer exists (left in
a build folder by a file that moved) are ignored.
"""
import os
import subprocess
import sys

OWN = ("common", "firmware", "gateway", "cloud", "boards")


def source_of(build, src, rel, obj):
    """The source file obj was compiled from, or None if it is not there any more."""
    folder = rel.split(os.sep + "CMakeFiles" + os.sep)[0]
    target_dir = os.path.join(build, rel)
    path = os.path.join(src, folder, os.path.relpath(obj, target_dir)[: -len(".o")])
    return path if os.path.exists(path) else None


def objects(build, src=None):
    """{target folder: [object paths]} for Depot's own targets."""
    out = {}
    for root, _, files in os.walk(build):
        if not root.endswith(".dir") or "CMakeFiles" not in root:
            continue
        rel = os.path.relpath(root, build)
        if not rel.startswith(OWN):
            continue
        objs = [os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs if f.endswith(".o")]
        if src:
            objs = [o for o in objs if source_of(build, src, rel, o)]
        if objs:
            out[rel] = objs
    return out


def symbols(obj):
    defined, used = set(), set()
    text = subprocess.run(["nm", obj], capture_output=True, text=True, check=True).stdout
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "U":
            used.add(parts[1])
        elif len(parts) == 3 and parts[1] in "TDBR":
            defined.add(parts[2])
    return defined, used


def source_name(obj, target):
    name = os.path.relpath(obj, target)
    return name[:-2] if name.endswith(".o") else name


def groups(edges):
    """Strongly connected components (Tarjan) with more than one node."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    sys.setrecursionlimit(10000)
    found, checked = 0, 0
    src = sys.argv[2] if len(sys.argv) == 3 else None
    for target, objs in sorted(objects(sys.argv[1], src).items()):
        defs, uses = {}, {}
        for o in objs:
            d, u = symbols(o)
            name = source_name(o, os.path.join(sys.argv[1], target))
            uses[name] = u
            for s in d:
                defs[s] = name
        edges = {f: {defs[s] for s in u if s in defs and defs[s] != f} for f, u in uses.items()}
        checked += len(edges)
        for comp in groups(edges):
            found += 1
            print(f"{target}: files calling each other in a circle: {', '.join(comp)}")
    print(f"file_cycles: {checked} files checked, {found} circle(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
