#!/usr/bin/env python3
"""Compare ThreadSanitizer reports of the series with pristine v10.2.2.

  scripts/tsan-compare.py SERIES_BUILD PRISTINE SRC
  scripts/tsan-compare.py --save PRISTINE_BUILD FILE

PRISTINE is a build directory of pristine v10.2.2 with its sanitizer logs,
or a file that --save wrote from one (scripts/tsan-pristine.json), so that
CI can compare without building and running pristine.

A report's location is the pair of source file and function of its two
conflicting accesses (no line numbers: they differ between the trees).
Each location of the series is classified:

  same          pristine has a report with the same pair
  same class    a file-posix thread pool worker (handle_aiocb_* anywhere
                on the stack of its access: its RawPosixAIOData, on the
                stack of the coroutine that waits for it, or the I/O
                buffer that pread/pwrite fill or read) against an access
                by a coroutine (an interceptor such as memset, or any
                function running in a coroutine), when pristine shows the
                same kind of report: TSan does not see the completion's
                ordering (worker_thread() publishes THREAD_DONE with a
                plain store after smp_wmb(), a fence TSan does not model;
                pristine's thread_pool_completion_bh / worker_thread race)
  pre-existing  one of its two functions (not an interceptor such as
                memcpy) races in pristine's reports too
  not series    neither access is in a function the series changes or
                calls (SRC: git diff v10.2.2..HEAD, tests excluded; an
                interceptor such as free or memcpy is not one), and
                pristine did not show it in this run (the series runs more
                tests, and races show up in some runs only)
  NEW           an access in code the series changes, not seen on pristine

Prints a Markdown table and exits 1 if there is a NEW location.
"""

import collections
import glob
import json
import os
import re
import subprocess
import sys

FRAME = re.compile(r'^\s+#0 (\S+) \(?(\S+)')


def pool_completion(report):
    """One access in a file-posix thread pool worker, the other by a
    coroutine (TSan calls coroutines fibers: threads with tid=0 created
    in on_new_fiber)."""
    # The two accesses are the report's first two blocks: a header line
    # naming the thread, then the stack
    blocks = report.split('\n\n')[:2]
    threads = []
    worker = False
    for block in blocks:
        m = re.search(r' by thread (T\d+)', block)
        if not m:
            return False
        if re.search(r'#\d+ handle_aiocb_\w+ \S*file-posix\.c', block):
            worker = True
        else:
            threads.append(m.group(1))
    return worker and any(
        re.search(r'Thread ' + t + r' \(tid=0[^)]*\) created by '
                  r'[^\n]*\n\s+#0 on_new_fiber', report) for t in threads)


def locations(build):
    """Report counts by location, and the locations that are stack reuse"""
    counts = collections.Counter()
    reuse = set()
    example = {}
    for path in glob.glob(os.path.join(build, 'sanitizer.log*')):
        with open(path, errors='replace') as f:
            text = f.read()
        for report in text.split('WARNING: ThreadSanitizer: ')[1:]:
            kind = report.split(' (')[0].split('\n')[0]
            frames = []
            for line in report.splitlines():
                m = FRAME.match(line)
                if m:
                    where = re.split(r'[:+]', os.path.basename(m.group(2)))
                    frames.append((where[0], m.group(1)))
                if len(frames) == 2:
                    break
            loc = (kind, tuple(sorted(set(frames))))
            counts[loc] += 1
            example.setdefault(loc, report)
            if pool_completion(report):
                reuse.add(loc)
    return counts, reuse, example


def load_pristine(path):
    """locations() of a pristine build, or of the file --save wrote"""
    if os.path.isdir(path):
        return locations(path)[:2]
    with open(path) as f:
        ref = json.load(f)
    counts = collections.Counter()
    for kind, frames, n in ref['locations']:
        counts[(kind, tuple(tuple(fr) for fr in frames))] = n
    reuse = {loc for loc in counts if ref['stack_reuse']}
    return counts, reuse


def save(build, path):
    counts, reuse, _ = locations(build)
    ref = {'locations': [[k, [list(fr) for fr in frames], n]
                         for (k, frames), n in sorted(counts.items())],
           'stack_reuse': bool(reuse)}
    with open(path, 'w') as f:
        json.dump(ref, f, indent=1)
        f.write('\n')
    print(f'{sum(counts.values())} reports at {len(counts)} locations '
          f'saved to {path}')
    return 0


def changed_functions(src):
    """Functions the series changes: the hunk headers of its diff (git
    names the enclosing function there) and the lines it adds."""
    diff = subprocess.run(['git', '-C', src, 'diff', '-U0', 'v10.2.2', 'HEAD',
                           '--', '.', ':!tests'], stdout=subprocess.PIPE,
                          text=True, check=True).stdout
    funcs = set()
    for line in diff.splitlines():
        if line.startswith('@@'):
            text = line.split('@@', 2)[-1]
        elif line.startswith('+') and not line.startswith('+++'):
            text = line[1:]
        else:
            continue
        funcs.update(re.findall(r'(\w+)\s*\(', text))
    return funcs


def main():
    if sys.argv[1] == '--save':
        return save(sys.argv[2], sys.argv[3])
    series, series_reuse, example = locations(sys.argv[1])
    pristine, pristine_reuse = load_pristine(sys.argv[2])
    changed = changed_functions(sys.argv[3])
    # interceptors (memcpy, free, ...) have no file: they match nothing
    pristine_funcs = {f for _, frames in pristine for f in frames
                      if f[0] != '<null>'}
    rows = []
    new = []
    for loc, n in series.most_common():
        frames = loc[1]
        if loc in pristine:
            what = 'same'
        elif loc in series_reuse and pristine_reuse:
            what = 'same class'
        elif any(f in pristine_funcs for f in frames):
            what = 'pre-existing'
        elif not any(f[1] in changed for f in frames if f[0] != '<null>'):
            # interceptors (free, memcpy, ...) are not the series' code,
            # whatever the series' lines or comments name
            what = 'not series'
        else:
            what = '**NEW**'
            new.append(loc)
        accesses = ' / '.join(f'{f}:{fn}' for f, fn in frames) or '?'
        rows.append(f'| {loc[0]} | {accesses} | {n} | {pristine.get(loc, 0)} '
                    f'| {what} |')
    print('| kind | accesses (file:function) | series | pristine | class |')
    print('|---|---|---|---|---|')
    print('\n'.join(rows))
    print()
    by = collections.Counter(r.rsplit('|', 2)[1].strip() for r in rows)
    print(f'{sum(series.values())} reports in the series at {len(series)} '
          f'locations ({", ".join(f"{v} {k}" for k, v in by.items())}); '
          f'{sum(pristine.values())} reports in pristine at '
          f'{len(pristine)} locations.')
    # CI keeps only this output: the first report of each NEW location
    for loc in new:
        print('\nWARNING: ThreadSanitizer: ' +
              '\n'.join(example[loc].splitlines()[:60]))
    return 1 if new else 0


if __name__ == '__main__':
    sys.exit(main())
