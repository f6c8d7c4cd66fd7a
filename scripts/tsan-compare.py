#!/usr/bin/env python3
"""Compare ThreadSanitizer reports of two builds by location.

  scripts/tsan-compare.py SERIES_BUILD PRISTINE_BUILD

A location is the pair of functions of a report's two conflicting
accesses (source file and function, without line numbers, which differ
between the trees), so that a race is matched by what races with what.
Prints a Markdown table with the count of reports per location in each
build; exits 1 if the series has a location that pristine does not.
"""

import collections
import glob
import os
import re
import sys

FRAME = re.compile(r'^\s+#0 (\S+) \(?(\S+)')


def locations(build):
    counts = collections.Counter()
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
                    frames.append(f'{where[0]}:{m.group(1)}')
                if len(frames) == 2:
                    break
            if not frames:
                frames = ['?']
            counts[(kind, ' / '.join(sorted(set(frames))))] += 1
    return counts


def main():
    series, pristine = (locations(b) for b in sys.argv[1:3])
    new = [loc for loc in series if loc not in pristine]
    print('| kind | accesses (file:function) | series | pristine |')
    print('|---|---|---|---|')
    for loc in sorted(set(series) | set(pristine),
                      key=lambda k: -series.get(k, 0)):
        mark = ' **new**' if loc in new else ''
        print(f'| {loc[0]} | {loc[1]}{mark} | {series.get(loc, 0)} | '
              f'{pristine.get(loc, 0)} |')
    print()
    print(f'{sum(series.values())} reports in the series at {len(series)} '
          f'locations, {sum(pristine.values())} in pristine at '
          f'{len(pristine)}; {len(new)} locations only in the series.')
    return 1 if new else 0


if __name__ == '__main__':
    sys.exit(main())
