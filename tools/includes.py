#!/usr/bin/python3
"""Checks that the project's folders form a DAG (STYLE.md, "Folders form a DAG").

Reads every `#include "..."` of the C files under the tree, resolves it the way the compiler
does (the including file's own folder first, then each -I folder in order), and maps every
file to its folder: `node/journal/marks.c` belongs to `node/journal`, `node/db.c` to `node`.
The program's entry, `node/main.c`, is a folder of its own (ENTRIES): it composes the node
from every subsystem, so it sits at the top and may include anything.

It fails, naming the cycle and the includes that make it, when folders include each other in
a cycle, and when a folder of ONLY includes a folder outside its list (`lib/` holds formats
that include nothing of the node). Today's cycles are allow-listed in KNOWN as the edges that
go the wrong way; they are printed as "known, to be removed". An edge of KNOWN that no longer
exists, or no longer closes a cycle, fails too, so that the list only shrinks.

Usage: includes.py [--root DIR] [-I DIR]...   (from the Makefile: -I. -Inode)
Exit status 0 when the tree passes, 1 otherwise. Python's standard library only.
"""

import argparse
import os
import re
import sys

# Folders that are not part of the tree being checked.
SKIP = {".git", "build", "node_modules"}

# Files that form a folder of their own: the program's entry composes everything.
ENTRIES = {"node/main.c"}

# folder -> the only folders its files may include (besides system headers).
ONLY = {"lib": {"lib"}}

# Known cycles, each as the edge (from folder, to folder) that goes the wrong way and the
# reason. None today: the core knows no subsystem (they register with it, node/subsystem.h),
# and the federation calls subsystems, never the reverse. An entry is a debt: the check
# fails when its edge goes away, so the list only shrinks.
KNOWN: dict = {}

INCLUDE_RE = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.M)


def folder_of(rel):
    """The folder a file (path relative to the root, with '/') belongs to."""
    if rel in ENTRIES:
        return rel
    return os.path.dirname(rel) or "."


def c_files(root):
    """Every .c and .h under root (outside SKIP), as sorted paths relative to it."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIP]
        for name in filenames:
            if name.endswith((".c", ".h")):
                rel = os.path.relpath(os.path.join(dirpath, name), root)
                out.append(rel.replace(os.sep, "/"))
    return sorted(out)


def resolve(root, rel, name, incdirs):
    """The file `#include "name"` in rel names, relative to root, or None when none exists."""
    for base in [os.path.dirname(rel)] + list(incdirs):
        cand = os.path.normpath(os.path.join(base, name)).replace(os.sep, "/")
        if os.path.isfile(os.path.join(root, cand)):
            return cand
    return None


def folder_graph(root, incdirs):
    """(edges, unresolved): edges maps (from folder, to folder) to the sorted list of
    "file: included file" that make it; unresolved lists includes that name no file."""
    edges, unresolved = {}, []
    for rel in c_files(root):
        with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
            text = f.read()
        for name in INCLUDE_RE.findall(text):
            target = resolve(root, rel, name, incdirs)
            if target is None:
                unresolved.append(f'{rel}: "{name}"')
                continue
            a, b = folder_of(rel), folder_of(target)
            if a != b:
                edges.setdefault((a, b), []).append(f"{rel}: {target}")
    return edges, unresolved


def find_cycle(edges):
    """A cycle of folders [a, b, ..., a] in the graph of edges, or None when it is a DAG."""
    succ = {}
    for a, b in sorted(edges):
        succ.setdefault(a, []).append(b)
    state, stack = {}, []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in succ.get(n, []):
            if state.get(m) == 1:
                return stack[stack.index(m) :] + [m]
            if m not in state:
                found = visit(m)
                if found:
                    return found
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(succ):
        if n not in state:
            found = visit(n)
            if found:
                return found
    return None


def path_between(edges, start, goal):
    """A shortest path of folders from start to goal, or None."""
    succ = {}
    for a, b in sorted(edges):
        succ.setdefault(a, []).append(b)
    prev, queue = {start: None}, [start]
    while queue:
        n = queue.pop(0)
        if n == goal:
            path = []
            while n is not None:
                path.append(n)
                n = prev[n]
            return path[::-1]
        for m in succ.get(n, []):
            if m not in prev:
                prev[m] = n
                queue.append(m)
    return None


def describe(edges, cycle, shown=3):
    """Lines naming a cycle and, under it, the first `shown` includes that make each edge."""
    lines = ["  " + " -> ".join(cycle)]
    for a, b in zip(cycle, cycle[1:]):
        why = edges[(a, b)]
        lines += [f"      {w}" for w in why[:shown]]
        if len(why) > shown:
            lines.append(f"      ... and {len(why) - shown} more from {a} to {b}")
    return lines


def all_cycles(edges):
    """Cycles enough to name every one that keeps the graph from being a DAG: finds one,
    drops its closing edge, and goes on until none is left."""
    rest, found = dict(edges), []
    cycle = find_cycle(rest)
    while cycle:
        found.append(cycle)
        del rest[(cycle[-2], cycle[-1])]
        cycle = find_cycle(rest)
    return found


def check(root, incdirs, known=None, only=None):
    """Checks the tree at root. Returns (ok, lines to print)."""
    known = KNOWN if known is None else known
    only = ONLY if only is None else only
    edges, unresolved = folder_graph(root, incdirs)
    ok, out = True, []
    for u in unresolved:
        ok = False
        out.append(f"error: an include that names no file: {u}")
    for (a, b), why in sorted(edges.items()):
        if a in only and b not in only[a]:
            ok = False
            out.append(f"error: {a}/ may include only {', '.join(sorted(only[a]))}/:")
            out += [f"      {w}" for w in why]
    for (a, b), reason in sorted(known.items()):
        if (a, b) not in edges:
            ok = False
            out.append(f"error: the known cycle edge {a} -> {b} is gone: remove it from KNOWN")
            continue
        back = path_between(edges, b, a)
        if back is None:
            ok = False
            out.append(f"error: {a} -> {b} closes no cycle any more: remove it from KNOWN")
            continue
        out.append(f"known, to be removed: {a} -> {b} ({reason})")
        out += describe(edges, [a] + back)
    rest = {e: w for e, w in edges.items() if e not in known}
    for cycle in all_cycles(rest):
        ok = False
        out.append("error: folders include each other in a cycle:")
        out += describe(rest, cycle)
    return ok, out


def main(argv=None):
    ap = argparse.ArgumentParser(description="Fails on an include cycle between folders.")
    ap.add_argument("--root", default=".", help="the tree to check (default: .)")
    ap.add_argument("-I", dest="incdirs", action="append", default=[],
                    help="an include folder, relative to the root, as the compiler's -I")
    args = ap.parse_args(argv)
    ok, lines = check(args.root, args.incdirs)
    for line in lines:
        print(line)
    print("includes: folders form a DAG" + (" (with the known cycles above)" if KNOWN else "")
          if ok else "includes: FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
