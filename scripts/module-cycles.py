#!/usr/bin/env python3
"""Module import graph of propagator/src from `use crate::`/`use super::` lines (and
`crate::x::y` paths in code); prints every pair of modules that import each other."""
import os, re, sys
root = sys.argv[1]
mods = {}
for dp, _, fs in os.walk(root):
    for f in fs:
        if not f.endswith('.rs'): continue
        p = os.path.join(dp, f)
        rel = os.path.relpath(p, root)[:-3].split(os.sep)
        if rel[-1] in ('mod', 'lib', 'main'): rel = rel[:-1]
        if rel and rel[0] == 'bin': continue
        mods[tuple(rel)] = p
def resolve(path):
    # longest prefix that is a module file
    for n in range(len(path), -1, -1):
        if tuple(path[:n]) in mods: return tuple(path[:n])
    return ()
edges = set()
for m, p in mods.items():
    src = open(p).read()
    # drop test modules' bodies roughly: keep it simple, strip `#[cfg(test)] mod tests {...}` at EOF
    i = src.find('#[cfg(test)]\nmod tests')
    if i >= 0: src = src[:i]
    # comments (doc links name modules without importing them)
    src = re.sub(r'//[^\n]*', '', src)
    for line in re.findall(r'(?:^|\s)(?:pub(?:\(crate\))?\s+)?use\s+([^;]+);', src, re.M):
        line = re.sub(r'\s+', '', line)
        for base, rest in [('crate::', lambda r: list(r)), ('super::', None)]:
            pass
        def targets(prefix, s):
            if '{' in s:
                head, inner = s.split('{', 1)
                inner = inner.rsplit('}', 1)[0]
                parts, depth, cur = [], 0, ''
                for ch in inner:
                    if ch == ',' and depth == 0: parts.append(cur); cur = ''; continue
                    if ch == '{': depth += 1
                    if ch == '}': depth -= 1
                    cur += ch
                parts.append(cur)
                out = []
                for q in parts:
                    if q: out += targets(prefix + [x for x in head.split('::') if x], q)
                return out
            return [prefix + [x for x in s.split(' as ')[0].split('::') if x]]
        for t in targets([], line):
            if t[0] == 'crate': path = t[1:]
            elif t[0] == 'super': path = list(m[:-1]) + t[1:]
            elif t[0] == 'self': path = list(m) + t[1:]
            else: continue
            r = resolve(path)
            if r != m and r != ():
                edges.add((m, r))
    for t in re.findall(r'\bcrate::((?:[a-z_]+::)*[a-z_]+)', src):
        r = resolve(t.split('::'))
        if r != m and r != (): edges.add((m, r))
    for t in re.findall(r'(?<![:\w])super::((?:[a-z_]+::)*[a-z_]+)', src):
        r = resolve(list(m[:-1]) + t.split('::'))
        if r != m and r != () and not (m[:len(r)] == r): edges.add((m, r))
def name(m): return '::'.join(m) or 'crate'
bad = sorted({tuple(sorted((a, b))) for (a, b) in edges if (b, a) in edges
              # a parent module re-exporting its child is not an import cycle
              if not (a[:len(b)] == b or b[:len(a)] == a)})
for a, b in bad: print('cycle:', name(a), '<->', name(b))
# longer cycles: strongly connected components, parent/child re-export edges left out
graph = {}
for a, b in edges:
    if a[:len(b)] == b or b[:len(a)] == a: continue
    graph.setdefault(a, set()).add(b)
index, low, stack, on, sccs, n = {}, {}, [], set(), [], [0]
def strong(v):
    index[v] = low[v] = n[0]; n[0] += 1; stack.append(v); on.add(v)
    for w in graph.get(v, ()):
        if w not in index: strong(w); low[v] = min(low[v], low[w])
        elif w in on: low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        c = []
        while True:
            w = stack.pop(); on.discard(w); c.append(w)
            if w == v: break
        if len(c) > 1: sccs.append(c)
for v in list(graph): 
    if v not in index: strong(v)
for c in sccs: print('cycle through:', ', '.join(sorted(name(x) for x in c)))
bad = bad or sccs
print(len(mods), 'modules,', len(edges), 'edges,', len(bad), 'mutual pairs')
sys.exit(1 if bad else 0)
