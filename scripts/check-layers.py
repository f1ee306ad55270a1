#!/usr/bin/env python3
"""The layers check: which object of the preloaded library uses which.

    scripts/check-layers.py [--graph] OBJECT...

An object depends on another when it uses a symbol the other defines (its
undefined symbols, nm -u, against the others' defined ones). Each object
belongs to the layer of its folder (hooks/, src/<layer>/...); the layers,
highest first:

    hooks > lifecycle > protocols, sources > export > trace, metrics
          > wire > config > sys > base

A file may use its own folder and the layers below it, nothing above and
nothing beside (trace and metrics do not use each other). What must go up
goes through an operations table registered at start-up, which leaves no
symbol reference behind. Also refused: a cycle of more than 3 files.

Prints every offending edge and cycle and exits 1; with --graph, prints the
whole graph first. Exit 0 when the objects keep the rule."""
import collections
import os
import subprocess
import sys

LAYERS = [
    ["hooks"],
    ["lifecycle"],
    ["protocols", "sources"],
    ["export"],
    ["trace", "metrics"],
    ["wire"],
    ["config"],
    ["sys"],
    ["base"],
]
RANK = {name: len(LAYERS) - i for i, names in enumerate(LAYERS) for name in names}
MAX_CYCLE = 3


def folder_of(path):
    """hooks/x.o -> hooks; .../src/export/otlp/x.o -> export."""
    parts = os.path.normpath(path).split(os.sep)
    if "src" in parts:
        rest = parts[len(parts) - 1 - parts[::-1].index("src") + 1:]
        return rest[0] if len(rest) > 1 else None
    if "hooks" in parts:
        return "hooks"
    return None


def file_of(path):
    parts = os.path.normpath(path).split(os.sep)
    for anchor in ("src", "hooks"):
        if anchor in parts:
            i = len(parts) - 1 - parts[::-1].index(anchor)
            name = os.sep.join(parts[i:])
            return name[:-2] if name.endswith(".o") else name
    return path


def symbols(obj, *flags):
    out = subprocess.run(["nm", *flags, obj], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        fields = line.split()
        if fields:
            yield fields


def graph(objs):
    defined = {}
    for o in objs:
        for f in symbols(o, "--defined-only"):
            # global definitions only: T D B R V W (upper case)
            if len(f) == 3 and f[1].isupper() and f[1] not in "UA":
                defined.setdefault(f[2], o)
    edges = collections.defaultdict(set)
    for o in objs:
        for f in symbols(o, "-u"):
            target = defined.get(f[-1])
            if target and target != o:
                edges[o].add(target)
    return edges


def strongly_connected(nodes, edges):
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
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
            out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


def main(argv):
    show = "--graph" in argv
    objs = [a for a in argv if a != "--graph"]
    if not objs:
        print(__doc__, file=sys.stderr)
        return 2
    problems = []
    for o in objs:
        folder = folder_of(o)
        if folder not in RANK:
            problems.append("%s: folder %r is in no layer" % (file_of(o), folder))
    edges = graph(objs)
    if show:
        for o in sorted(edges):
            print("%s -> %s" % (file_of(o), " ".join(sorted(file_of(t) for t in edges[o]))))
    for o in sorted(edges):
        a = folder_of(o)
        for t in sorted(edges[o]):
            b = folder_of(t)
            if a == b or a not in RANK or b not in RANK:
                continue
            if RANK[b] >= RANK[a]:
                way = "up" if RANK[b] > RANK[a] else "beside"
                problems.append("%s (%s) uses %s (%s): a dependency %s" % (file_of(o), a, file_of(t), b, way))
    for comp in strongly_connected(objs, edges):
        if len(comp) > MAX_CYCLE:
            problems.append("a cycle of %d files: %s" % (len(comp), " ".join(file_of(c) for c in comp)))
    folders = sorted({folder_of(o) for o in objs if folder_of(o) and folder_of(o) != "hooks"})
    for p in problems:
        print("check-layers: " + p)
    if problems:
        print("check-layers: %d problem(s) in %d objects" % (len(problems), len(objs)))
        return 1
    print("check-layers: %d objects in %d folders of src/ (%s) and hooks/; no upward or sideways "
          "dependency, no cycle of more than %d files" % (len(objs), len(folders), ", ".join(folders), MAX_CYCLE))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
