#!/usr/bin/env python3
"""Benchmark the series against pristine QEMU v10.2.2 in one run.

Builds (or reuses) work/build-pristine and work/build, builds the in-process
benchmark tests-unit/bench-block-multiqueue.c in both, then:

  1. IOPS: every backend x thread count, pristine and series alternating,
     several rounds; median and spread (min..max) per point.  Each round
     also measures the no-sharing limit: N processes of the series'
     benchmark with one IOThread each, started together, IOPS summed.  One
     BlockBackend served by N IOThreads should approach it.
  2. Instructions per request with valgrind --tool=callgrind: the
     difference between runs of 2R and R requests, divided by R, so that
     setup and teardown cancel out.  Also keeps the top functions.
  3. Where KVM works, fio in a guest (scripts/bench_guest.py) on
     virtio-blk with num-queues=N on N IOThreads, N = the thread counts.
     It is skipped, and says why, when /dev/kvm cannot run a guest (a TCG
     guest is no performance data; bench_guest.py --accel tcg checks the
     harness only).

Writes bench/results.json, bench/results.md and bench/scaling.png.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

import bench_guest
from bench_guest import progress, run

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.environ.get('WORK', os.path.join(TOP, 'work'))
OUT = os.path.join(TOP, 'bench')
BIN = os.path.join(WORK, 'bench-bin')
TREES = {
    'pristine': (os.path.join(WORK, 'pristine'),
                 os.path.join(WORK, 'build-pristine')),
    'series': (os.path.join(WORK, 'qemu'), os.path.join(WORK, 'build')),
}
BENCH_SRC = os.path.join(TOP, 'tests-unit', 'bench-block-multiqueue.c')
SHIM_SRC = os.path.join(TOP, 'tests-unit', 'no-uring-preload.c')
MESON_HUNK = """
if have_block
  executable('bench-block-multiqueue',
             sources: files('bench-block-multiqueue.c', '../unit/iothread.c'),
             include_directories: include_directories('../unit'),
             dependencies: [block, qemuutil],
             build_by_default: false)
endif
"""
# backend -> benchmark mode
# null-co-acct: null-co with the device's accounting of each request
WORKLOADS = [('null-co', 'read'), ('null-co', 'write'),
             ('null-co-acct', 'write'), ('raw', 'read'), ('qcow2', 'read'),
             ('qcow2-alloc', 'write'), ('qcow2-meta', 'read'),
             ('qcow2-meta', 'write')]
# callgrind workloads: (name, backend, mode, requests R)
CG_WORKLOADS = [('null-co-read', 'null-co', 'read', 20000),
                ('null-co-write', 'null-co', 'write', 20000),
                ('null-co-acct-write', 'null-co-acct', 'write', 20000),
                ('qcow2-read', 'qcow2', 'read', 4000),
                ('qcow2-meta-read', 'qcow2-meta', 'read', 20000)]

def build_trees():
    progress('building pristine v10.2.2 (work/build-pristine)')
    run([os.path.join(TOP, 'scripts', 'build-pristine.sh')],
        stdout=subprocess.DEVNULL)
    progress('applying and building the series (work/build)')
    run([os.path.join(TOP, 'scripts', 'apply.sh')], stdout=subprocess.DEVNULL)
    run([os.path.join(TOP, 'scripts', 'build.sh')], stdout=subprocess.DEVNULL)


def build_bench(tree):
    """Build the benchmark in a tree; the tree is left as it was."""
    src, build = TREES[tree]
    bench_dir = os.path.join(src, 'tests', 'bench')
    meson = os.path.join(bench_dir, 'meson.build')
    copy = os.path.join(bench_dir, 'bench-block-multiqueue.c')
    progress(f'building the benchmark in the {tree} tree')
    shutil.copy(BENCH_SRC, copy)
    with open(meson, 'a') as f:
        f.write(MESON_HUNK)
    try:
        run(['ninja', '-C', build, 'tests/bench/bench-block-multiqueue'],
            stdout=subprocess.DEVNULL)
    finally:
        run(['git', '-C', src, 'checkout', '--', 'tests/bench/meson.build'])
        os.unlink(copy)
    dest = os.path.join(BIN, tree)
    os.makedirs(dest, exist_ok=True)
    shutil.copy(os.path.join(build, 'tests', 'bench', 'bench-block-multiqueue'),
                dest)
    return os.path.join(dest, 'bench-block-multiqueue')


def build_shim():
    so = os.path.join(BIN, 'no-uring.so')
    run(['gcc', '-shared', '-fPIC', '-O2', '-o', so, SHIM_SRC])
    return so


def bench(binary, backend, mode, threads, depth, seconds=None, requests=None,
          prefix=(), separate=False):
    cmd = list(prefix) + [binary, '--backend', backend, '--mode', mode,
                          '--threads', str(threads), '--depth', str(depth),
                          '--json'] + (['--separate'] if separate else [])
    if requests:
        cmd += ['--requests', str(requests)]
    else:
        cmd += ['--seconds', str(seconds)]
    out = run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE).stdout
    return json.loads(out.strip().splitlines()[-1])


def bench_unshared(binary, backend, mode, n, depth, seconds):
    """The no-sharing limit for n IOThreads: n processes with one IOThread
    (and their own image) each, started together; their IOPS summed."""
    cmd = [binary, '--backend', backend, '--mode', mode, '--threads', '1',
           '--depth', str(depth), '--json', '--seconds', str(seconds)]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
             for _ in range(n)]
    total = 0
    for p in procs:
        out, err = p.communicate()
        if p.returncode:
            sys.exit(f'{" ".join(cmd)} failed ({p.returncode}): {err}')
        total += json.loads(out.strip().splitlines()[-1])['iops_total']
    return total


def measure_iops(bins, threads_list, depth, seconds, rounds):
    points = []
    for backend, mode in WORKLOADS:
        for threads in threads_list:
            samples = {t: [] for t in bins}
            cpu = {t: [] for t in bins}
            unshared = []
            # null-co only: N nodes in one process (what the process
            # itself shares, without the node and BlockBackend)
            separate = [] if backend.startswith('null-co') and threads > 1 \
                else None
            for r in range(rounds):
                # alternate which tree goes first, round by round
                order = list(bins) if r % 2 == 0 else list(bins)[::-1]
                for tree in order:
                    res = bench(bins[tree], backend, mode, threads, depth,
                                seconds=seconds)
                    samples[tree].append(res['iops_total'])
                    cpu[tree].append(res['cpu_us_per_request'])
                unshared.append(bench_unshared(bins['series'], backend, mode,
                                               threads, depth, seconds))
                if separate is not None:
                    separate.append(bench(bins['series'], backend, mode,
                                          threads, depth, seconds=seconds,
                                          separate=True)['iops_total'])
            def point(tree, samples, **extra):
                return dict({'tree': tree, 'backend': backend, 'mode': mode,
                             'threads': threads, 'depth': depth,
                             'iops_median': statistics.median(samples),
                             'iops_min': min(samples),
                             'iops_max': max(samples), 'samples': samples},
                            **extra)
            points.append(point('unshared', unshared))
            if separate:
                points.append(point('separate', separate))
            for tree in bins:
                points.append(point(tree, samples[tree],
                                    cpu_us_per_request_median=
                                    statistics.median(cpu[tree])))
            # the result is the ratio: per round, series over the pristine
            # run next to it, so that drift of the machine cancels out
            ratios = [q / p for p, q in zip(samples['pristine'],
                                            samples['series'])]
            for pt in points[-2:]:
                pt['ratio_rounds'] = ratios
            p, q = (statistics.median(samples[t]) for t in ('pristine',
                                                             'series'))
            u = statistics.median(unshared)
            progress(f'{backend:11} {mode:5} {threads} thread(s): '
                     f'pristine {p:10.0f} IOPS, series {q:10.0f} IOPS, '
                     f'ratio {q / p:.3f} (rounds {min(ratios):.3f}..'
                     f'{max(ratios):.3f}); no-sharing {u:10.0f} IOPS, '
                     f'series at {q / u:.1%} of it' +
                     (f'; {threads} nodes in one process '
                      f'{statistics.median(separate):10.0f} IOPS'
                      if separate else ''))
    return points


def callgrind_total(binary, shim, backend, mode, requests, outfile):
    cmd = ['valgrind', '--tool=callgrind', f'--callgrind-out-file={outfile}',
           binary, '--backend', backend, '--mode', mode, '--threads', '1',
           '--depth', '16', '--requests', str(requests)]
    env = dict(os.environ, LD_PRELOAD=shim)
    res = subprocess.run(cmd, env=env, text=True, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, check=True)
    for line in res.stderr.splitlines():
        if 'Collected :' in line:
            return int(line.split(':')[1].strip())
    raise RuntimeError(f'no instruction count from callgrind: {res.stderr}')


def top_functions(outfile, n=15):
    out = run(['callgrind_annotate', '--inclusive=no', outfile],
              stdout=subprocess.PIPE).stdout
    rows = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].replace(',', '').isdigit() and \
           ':' in line and '(' in line and 'PROGRAM TOTALS' not in line:
            count = int(parts[0].replace(',', ''))
            func = line.split(':', 1)[1].split('[')[0].strip()
            rows.append((count, func))
        if len(rows) >= n:
            break
    return rows


def measure_instructions(bins, shim):
    results = []
    for name, backend, mode, r in CG_WORKLOADS:
        for tree in bins:
            cg = os.path.join(OUT, f'callgrind.{tree}.{name}')
            small = callgrind_total(bins[tree], shim, backend, mode, r,
                                    cg + '.small')
            big = callgrind_total(bins[tree], shim, backend, mode, 2 * r, cg)
            os.unlink(cg + '.small')
            per_req = (big - small) / r
            top = top_functions(cg)
            results.append({'tree': tree, 'workload': name,
                            'requests': [r, 2 * r], 'ir': [small, big],
                            'ir_per_request': per_req,
                            'top_functions': [{'ir': c, 'function': f}
                                              for c, f in top]})
            progress(f'callgrind {name:13} {tree:8}: {per_req:8.0f} '
                     f'instructions/request')
    return results


def kvm_guest_check():
    """Can this machine run a KVM guest?  A nested KVM guest here hangs
    after the kernel starts, so opening /dev/kvm is not enough: a guest
    kernel has to get to mounting its root file system within a short
    timeout (it then panics, having no root: that is the success case)."""
    if not os.access('/dev/kvm', os.R_OK | os.W_OK):
        return False, '/dev/kvm is missing or not accessible'
    try:
        kernel, _ = bench_guest.kernel_assets()
    except (subprocess.CalledProcessError, IndexError, OSError,
            RuntimeError) as e:
        return False, f'no guest kernel for the KVM check ({e})'
    qemu = os.path.join(TREES['series'][1], 'qemu-system-x86_64')
    try:
        out = subprocess.run(
            [qemu, '-accel', 'kvm', '-M', 'q35', '-m', '256', '-nographic',
             '-no-reboot', '-kernel', kernel,
             '-append', 'console=ttyS0 panic=-1'],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30,
            errors='replace').stdout
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors='replace') if e.stdout else ''
    if 'Unable to mount root' in out or 'Kernel panic' in out:
        return True, 'a KVM guest kernel booted to its root mount'
    return False, ('a Debian kernel under KVM did not get to mounting its '
                   'root file system within 30 s (nested KVM guests hang '
                   'on this machine), and a TCG guest gives no performance '
                   'numbers')


def reproducibility(previous, points):
    """Lines comparing this run's series/pristine ratios with the spread
    of per-round ratios that the previous run (bench/results.json) gave."""
    old = {(p['backend'], p['mode'], p['threads']): p
           for p in previous.get('iops', [])
           if p['tree'] == 'series' and 'ratio_rounds' in p}
    lines = ['| backend | threads | previous ratio (rounds) | this ratio '
             '| within |', '|---|---|---|---|---|']
    inside = total = 0
    for p in points:
        o = old.get((p['backend'], p['mode'], p['threads']))
        if p['tree'] != 'series' or not o:
            continue
        ratio = statistics.median(p['ratio_rounds'])
        lo, hi = min(o['ratio_rounds']), max(o['ratio_rounds'])
        ok = lo <= ratio <= hi
        inside += ok
        total += 1
        lines.append(f"| {p['backend']} {p['mode']} | {p['threads']} | "
                     f"{statistics.median(o['ratio_rounds']):.3f} "
                     f"({lo:.3f}..{hi:.3f}) | {ratio:.3f} | "
                     f"{'yes' if ok else 'NO'} |")
    if not total:
        return []
    return (['', f'Reproducibility: {inside} of {total} median ratios of '
             f"this run lie within the per-round spread of the previous "
             f"run ({previous['meta']['date']}).", ''] + lines)


def write_outputs(meta, points, instr, guest, previous):
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, 'results.json'), 'w') as f:
        json.dump({'meta': meta, 'iops': points, 'instructions': instr,
                   'guest': guest}, f, indent=1)

    by = {(p['tree'], p['backend'], p['mode'], p['threads']): p
          for p in points}
    threads_list = sorted({p['threads'] for p in points})
    lines = [f"# Benchmark results ({meta['date']})", '',
             f"Machine: {meta['machine']}. Each point: median of "
             f"{meta['rounds']} runs of {meta['seconds']} s, depth "
             f"{meta['depth']}, 4 KiB requests; spread = min..max.", '',
             '| backend | threads | pristine IOPS (spread) | series IOPS '
             '(spread) | series/pristine (rounds) | scaling pristine | '
             'scaling series | no-sharing IOPS (spread) | series / '
             'no-sharing |', '|---|---|---|---|---|---|---|---|---|']
    for backend, mode in WORKLOADS:
        for t in threads_list:
            p, s = (by[(tree, backend, mode, t)]
                    for tree in ('pristine', 'series'))
            p1, s1 = (by[(tree, backend, mode, 1)]
                      for tree in ('pristine', 'series'))
            u = by[('unshared', backend, mode, t)]
            lines.append(
                f"| {backend} {mode} | {t} | {p['iops_median']:.0f} "
                f"({p['iops_min']:.0f}..{p['iops_max']:.0f}) | "
                f"{s['iops_median']:.0f} ({s['iops_min']:.0f}.."
                f"{s['iops_max']:.0f}) | "
                f"{s['iops_median'] / p['iops_median']:.3f} "
                f"({min(s['ratio_rounds']):.3f}..{max(s['ratio_rounds']):.3f})"
                f" | "
                f"{p['iops_median'] / (t * p1['iops_median']):.2f} | "
                f"{s['iops_median'] / (t * s1['iops_median']):.2f} | "
                f"{u['iops_median']:.0f} ({u['iops_min']:.0f}.."
                f"{u['iops_max']:.0f}) | "
                f"{s['iops_median'] / u['iops_median']:.1%} |")
    lines += ['', 'Scaling efficiency = IOPS(N) / (N x IOPS(1)). No-sharing ='
              ' N processes of the series with one IOThread each, IOPS '
              'summed; "series / no-sharing" is the fraction of that limit '
              'that one BlockBackend served by N IOThreads reaches.']
    sep = [p for p in points if p['tree'] == 'separate']
    if sep:
        lines += ['', 'One process, N nodes (null-co only): the series with '
                  'a null-co node and BlockBackend per IOThread in one '
                  'process (`--separate`), measured in the same rounds; '
                  'it shares only what the process shares.', '',
                  '| backend | threads | one process, N nodes IOPS (spread) '
                  '| of no-sharing | one node / N nodes |',
                  '|---|---|---|---|---|']
        for p in sep:
            key = (p['backend'], p['mode'], p['threads'])
            u = by[('unshared', *key)]
            s = by[('series', *key)]
            lines.append(
                f"| {p['backend']} {p['mode']} | {p['threads']} | "
                f"{p['iops_median']:.0f} ({p['iops_min']:.0f}.."
                f"{p['iops_max']:.0f}) | "
                f"{p['iops_median'] / u['iops_median']:.1%} | "
                f"{s['iops_median'] / p['iops_median']:.1%} |")
    lines += ['',
              '| workload | pristine instr/request | series instr/request '
              '| series/pristine |', '|---|---|---|---|']
    ins = {(i['tree'], i['workload']): i for i in instr}
    for name, *_ in CG_WORKLOADS:
        p, s = ins[('pristine', name)], ins[('series', name)]
        lines.append(f"| {name} | {p['ir_per_request']:.0f} | "
                     f"{s['ir_per_request']:.0f} | "
                     f"{s['ir_per_request'] / p['ir_per_request']:.3f} |")
    if previous:
        lines += reproducibility(previous, points)
    lines += ['', f"Guest benchmark: {meta['guest']}", '']
    if guest:
        lines += [bench_guest.table(guest), '']
    with open(os.path.join(OUT, 'results.md'), 'w') as f:
        f.write('\n'.join(lines))

    dat = os.path.join(OUT, 'scaling.dat')
    with open(dat, 'w') as f:
        for backend, mode in WORKLOADS:
            for tree in ('pristine', 'series', 'unshared'):
                f.write(f'# {backend} {mode} {tree}\n')
                for t in threads_list:
                    p = by[(tree, backend, mode, t)]
                    f.write(f"{t} {p['iops_median']} {p['iops_min']} "
                            f"{p['iops_max']}\n")
                f.write('\n\n')
    plots = []
    i = 0
    dashes = {'series': 'dt 1', 'pristine': 'dt 2', 'unshared': 'dt 3'}
    for color, (backend, mode) in enumerate(WORKLOADS, start=1):
        for tree in ('pristine', 'series', 'unshared'):
            title = 'no-sharing' if tree == 'unshared' else tree
            plots.append(f"'{dat}' index {i} using 1:2:3:4 with yerrorlines "
                         f"lw 2 lc {color} {dashes[tree]} "
                         f"title '{backend} {mode} {title}'")
            i += 1
    script = (f"set terminal pngcairo size 1000,600\n"
              f"set output '{os.path.join(OUT, 'scaling.png')}'\n"
              f"set title 'IOPS against IOThreads: pristine v10.2.2 (dashed),"
              f" series (solid), no-sharing limit (dotted)'\n"
              f"set xlabel 'IOThreads'\nset ylabel 'IOPS'\nset logscale y\n"
              f"set xtics ({', '.join(str(t) for t in threads_list)})\n"
              f"set key outside right\n"
              f"plot {', '.join(plots)}\n")
    run(['gnuplot'], input=script)


def default_threads():
    n = os.cpu_count() or 1
    counts = [t for t in (1, 2, 4, 8, 16, 32, 64) if t < n] + [n]
    return ','.join(str(t) for t in counts)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--threads', default=default_threads(),
                    help='IOThread counts (default: powers of two up to '
                    'the number of CPUs, and that number)')
    ap.add_argument('--depth', type=int, default=16)
    ap.add_argument('--seconds', type=float, default=2.0)
    ap.add_argument('--rounds', type=int, default=5)
    ap.add_argument('--guest-seconds', type=int, default=10,
                    help='fio runtime per guest boot (KVM only)')
    ap.add_argument('--no-build', action='store_true',
                    help='reuse work/build-pristine and work/build as they are')
    ap.add_argument('--bins-only', action='store_true',
                    help='only build the benchmark in both trees, into '
                    'work/bench-bin/{pristine,series}/ (for bench-bundle.sh)')
    args = ap.parse_args()
    threads_list = [int(t) for t in args.threads.split(',')]
    if 1 not in threads_list:
        ap.error('--threads must include 1 (scaling is relative to it)')

    if not args.no_build:
        build_trees()
    os.makedirs(OUT, exist_ok=True)
    bins = {tree: build_bench(tree) for tree in TREES}
    if args.bins_only:
        return 0
    shim = build_shim()

    meta = {
        'date': time.strftime('%Y-%m-%d %H:%M'),
        'machine': f'{os.cpu_count()} CPUs, {os.uname().release}',
        'threads': threads_list, 'depth': args.depth,
        'seconds': args.seconds, 'rounds': args.rounds,
        'series_head': subprocess.run(
            ['git', '-C', TREES['series'][0], 'log', '-1', '--format=%h %s'],
            stdout=subprocess.PIPE, text=True).stdout.strip(),
    }
    previous = None
    try:
        with open(os.path.join(OUT, 'results.json')) as f:
            previous = json.load(f)
    except (OSError, ValueError):
        pass
    ok, why = kvm_guest_check()
    meta['guest'] = ('skipped: ' + why) if not ok else \
        ('run: ' + why + '; fio 4 KiB randread, libaio, direct, iodepth 32 '
         'per job, N jobs on N vCPUs, num-queues=N on N IOThreads')
    progress(f'guest benchmark: {meta["guest"]}')

    points = measure_iops(bins, threads_list, args.depth, args.seconds,
                          args.rounds)
    instr = measure_instructions(bins, shim)
    guest = []
    if ok:
        guest = bench_guest.measure('kvm', list(TREES), threads_list,
                                    args.guest_seconds, args.rounds)
    write_outputs(meta, points, instr, guest, previous)
    progress(f'wrote {OUT}/results.json, results.md, scaling.png')
    print(open(os.path.join(OUT, 'results.md')).read())


if __name__ == '__main__':
    sys.exit(main())
