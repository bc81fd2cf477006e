#!/usr/bin/env python3
"""Sums a massif profile's peak snapshot by the plumb functions that hold the memory.

    valgrind --tool=massif --massif-out-file=m.out bin/plumb plan --cached -f DIR --state S
    bench/massif_by_caller.py m.out [DEPTH]

Each leaf of the peak's allocation tree is charged to its chain of source-level frames (the
allocator's nearest named callers first), cut at DEPTH frames (default 2); the 25 largest
chains are printed with their share of the peak. Used to look for the peak RSS goal of
docs/benchmarks.md."""
import collections
import re
import sys


def parse(lines, pos):
    m = re.match(r'\s*n(\d+): (\d+) (.*)', lines[pos])
    node = {'bytes': int(m.group(2)), 'fn': m.group(3), 'kids': []}
    pos += 1
    for _ in range(int(m.group(1))):
        kid, pos = parse(lines, pos)
        node['kids'].append(kid)
    return node, pos


def main():
    lines = open(sys.argv[1]).read().split('\n')
    depth = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    peak = max(i for i, l in enumerate(lines) if l.startswith('heap_tree=peak'))
    root, _ = parse(lines, peak + 1)
    agg = collections.Counter()

    def charge(node, chain, nbytes):
        key = ' < '.join(chain[:depth]) if chain else node['fn'][:60]
        agg[key] += nbytes

    def walk(node, chain):
        m = re.search(r': (\w+) \(([\w./-]+\.c):\d+\)', node['fn'])
        chain = chain + ([m.group(1) + '@' + m.group(2)] if m else [])
        own = node['bytes'] - sum(k['bytes'] for k in node['kids'])
        if own > 0:
            charge(node, chain, own)
        for k in node['kids']:
            walk(k, chain)

    walk(root, [])
    total = sum(agg.values())
    print('peak heap %d bytes' % total)
    for k, v in agg.most_common(25):
        print('%6.1f%% %11d  %s' % (100.0 * v / total, v, k))


if __name__ == '__main__':
    main()
