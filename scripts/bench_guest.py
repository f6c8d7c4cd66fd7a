#!/usr/bin/env python3
"""fio in a small guest on virtio-blk with num-queues=N mapped to N IOThreads.

The guest: Debian's kernel (from linux-image-amd64's dependency, extracted
with dpkg-deb, not installed) and an initramfs made here from
busybox-static, the host's fio (Debian's package) with the libraries ldd
lists, and the kernel's virtio modules.  The guest runs fio 4 KiB randread
with libaio, direct I/O, N jobs on N vCPUs (so blk-mq uses all N
virtqueues), prints fio's JSON on the serial console and powers off.

Backends: null-co (read-zeroes) and raw on a tmpfs file.  For every tree
(pristine, series), backend and N, --rounds boots in alternation; the
median IOPS and the spread are reported, and the scaling efficiency
IOPS(N) / (N x IOPS(1)).

Performance numbers need KVM (--accel kvm, what bench.py uses when KVM
works).  --accel tcg is a harness check only: it proves that the guest
boots, sees N queues and that fio's output parses; its numbers are printed
as such and never written as results.

  scripts/bench_guest.py [--accel kvm|tcg] [--threads 1,2,4] [--seconds 10]
                         [--rounds 3] [--trees pristine,series]
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.environ.get('WORK', os.path.join(TOP, 'work'))
OUT = os.path.join(TOP, 'bench')
BUILDS = {'pristine': os.path.join(WORK, 'build-pristine'),
          'series': os.path.join(WORK, 'build')}
CACHE = os.path.join(os.environ.get('MQ_CACHE') or os.path.join(
    os.environ.get('XDG_CACHE_HOME') or os.path.expanduser('~/.cache'),
    'qemu-mq'), 'guest')
MODULES = ['virtio_ring', 'virtio', 'virtio_pci_modern_dev',
           'virtio_pci_legacy_dev', 'virtio_pci', 'virtio_blk']
DISK_SIZE = 1 << 30

INIT = """#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in {modules}; do insmod /lib/modules/$m.ko; done
for arg in $(cat /proc/cmdline); do
    case $arg in mq.*=*) k=${{arg%%=*}}; eval "${{k#mq.}}=${{arg#*=}}" ;; esac
done
i=0
while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
echo "MQ-QUEUES $(ls /sys/block/vda/mq | wc -l)"
echo MQ-FIO-BEGIN
fio --name=mq --filename=/dev/vda --direct=1 --rw=randread --bs=4k \\
    --ioengine=libaio --iodepth=$depth --numjobs=$jobs --time_based \\
    --runtime=$runtime --ramp_time=1 --group_reporting --output-format=json
echo MQ-FIO-END
poweroff -f
"""

START = time.monotonic()


def progress(msg):
    print(f'[{time.monotonic() - START:6.0f} s] {msg}', flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, **kw)


def kernel_assets():
    """vmlinuz and the virtio modules, extracted once into the cache."""
    kernel = os.path.join(CACHE, 'vmlinuz')
    mods = os.path.join(CACHE, 'modules')
    if os.path.exists(kernel) and os.path.isdir(mods):
        return kernel, mods
    os.makedirs(CACHE, exist_ok=True)
    deps = run(['apt-cache', 'depends', 'linux-image-amd64'],
               stdout=subprocess.PIPE).stdout
    pkg = [line.split()[-1] for line in deps.splitlines()
           if 'Depends:' in line and 'linux-image-' in line][0]
    progress(f'downloading {pkg} for the guest')
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        run(['apt-get', 'download', '-q', pkg], cwd=tmp,
            stdout=subprocess.DEVNULL)
        deb = [f for f in os.listdir(tmp) if f.endswith('.deb')][0]
        x = os.path.join(tmp, 'x')
        run(['dpkg-deb', '-x', os.path.join(tmp, deb), x])
        boot = os.path.join(x, 'boot')
        shutil.copy(os.path.join(boot, [f for f in os.listdir(boot)
                                        if f.startswith('vmlinuz')][0]),
                    kernel)
        os.makedirs(mods, exist_ok=True)
        for root, _, files in os.walk(os.path.join(x, 'lib', 'modules')):
            for f in files:
                if f.split('.ko')[0] in MODULES:
                    shutil.copy(os.path.join(root, f), mods)
    missing = [m for m in MODULES
               if not os.path.exists(os.path.join(mods, m + '.ko'))]
    if missing:
        raise RuntimeError(f'modules not found in {pkg}: {missing}')
    return kernel, mods


def cpio_newc(entries, path):
    """Write an uncompressed newc cpio archive: (name, mode, data) tuples."""
    with open(path, 'wb') as f:
        for ino, (name, mode, data) in enumerate(
                entries + [('TRAILER!!!', 0, b'')], 1):
            nm = name.encode() + b'\0'
            hdr = ('070701' + ''.join(f'{v:08x}' for v in (
                ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(nm), 0)))
            f.write(hdr.encode() + nm)
            f.write(b'\0' * ((4 - (110 + len(nm)) % 4) % 4))
            f.write(data)
            f.write(b'\0' * ((4 - len(data) % 4) % 4))


def initramfs(mods):
    """busybox, fio and its libraries, the modules and /init."""
    fio = shutil.which('fio')
    busybox = '/bin/busybox'
    if not fio or not os.path.exists(busybox):
        raise RuntimeError('needs fio and busybox-static (apt-get install '
                           'fio busybox-static)')
    version = run([fio, '--version'], stdout=subprocess.PIPE).stdout.strip()
    path = os.path.join(CACHE, f'initramfs-{version}.cpio')
    if os.path.exists(path):
        return path
    progress(f'building the guest initramfs ({version})')
    libs = []
    for line in run(['ldd', fio], stdout=subprocess.PIPE).stdout.splitlines():
        p = line.split('=>')[-1].split('(')[0].strip()
        if p.startswith('/'):
            libs.append(p)
    entries = []
    dirs = set()

    def add_file(dest, src, mode=0o100755):
        parts = dest.strip('/').split('/')
        for i in range(1, len(parts)):
            d = '/'.join(parts[:i])
            if d not in dirs:
                dirs.add(d)
                entries.append((d, 0o040755, b''))
        with open(src, 'rb') as f:
            entries.append((dest.strip('/'), mode, f.read()))

    for d in ('proc', 'sys', 'dev', 'tmp', 'bin'):
        dirs.add(d)
        entries.append((d, 0o040755, b''))
    add_file('/bin/busybox', busybox)
    add_file('/bin/fio', fio)
    for lib in libs:
        add_file(lib, os.path.realpath(lib))
    for m in MODULES:
        add_file(f'/lib/modules/{m}.ko', os.path.join(mods, m + '.ko'),
                 0o100644)
    with tempfile.NamedTemporaryFile('w', delete=False) as t:
        t.write(INIT.format(modules=' '.join(MODULES)))
    add_file('/init', t.name)
    os.unlink(t.name)
    cpio_newc(entries, path + '.tmp')
    os.rename(path + '.tmp', path)
    return path


def boot(build, accel, kernel, initrd, backend, n, seconds, depth):
    """One guest run; returns (queues seen by the guest, fio's IOPS)."""
    qemu = os.path.join(build, 'qemu-system-x86_64')
    if backend == 'null-co':
        blockdev = (f'driver=null-co,node-name=disk,size={DISK_SIZE},'
                    f'read-zeroes=on')
    else:
        img = os.path.join('/dev/shm', f'mq-bench-{os.getpid()}.raw')
        with open(img, 'wb') as f:
            f.truncate(DISK_SIZE)
        blockdev = (f'driver=raw,node-name=disk,file.driver=file,'
                    f'file.filename={img},file.aio=threads')
    mapping = [{'iothread': f'iot{i}'} for i in range(n)]
    device = json.dumps({'driver': 'virtio-blk-pci', 'drive': 'disk',
                         'num-queues': n, 'iothread-vq-mapping': mapping})
    cmd = [qemu, '-accel', accel, '-M', 'q35',
           '-cpu', 'host' if accel == 'kvm' else 'max',
           '-smp', str(n), '-m', '1024', '-nographic', '-no-reboot',
           '-kernel', kernel, '-initrd', initrd,
           '-append', f'console=ttyS0 quiet panic=-1 mq.jobs={n} '
                      f'mq.depth={depth} mq.runtime={seconds}',
           '-blockdev', blockdev, '-device', device]
    for i in range(n):
        cmd += ['-object', f'iothread,id=iot{i}']
    limit = seconds + (60 if accel == 'kvm' else 600)
    try:
        out = subprocess.run(cmd, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, timeout=limit,
                             errors='replace').stdout
    finally:
        if backend != 'null-co':
            os.unlink(img)
    if 'MQ-FIO-END' not in out:
        raise RuntimeError(f'guest did not finish fio ({backend}, N={n}):\n'
                           + out[-2000:])
    queues = int(out.split('MQ-QUEUES')[1].split()[0])
    text = out.split('MQ-FIO-BEGIN')[1].split('MQ-FIO-END')[0]
    job = json.loads(text[text.index('{'):text.rindex('}') + 1])['jobs'][0]
    if job['error'] or not job['read']['total_ios']:
        raise RuntimeError(f'fio failed in the guest ({backend}, N={n}): '
                           f"error {job['error']}, "
                           f"{job['read']['total_ios']} I/Os")
    return queues, job['read']['iops']


def measure(accel, trees, threads, seconds, rounds, depth=32):
    kernel, mods = kernel_assets()
    initrd = initramfs(mods)
    points = []
    for backend in ('null-co', 'raw'):
        for n in threads:
            samples = {t: [] for t in trees}
            for r in range(rounds):
                for tree in trees:
                    queues, iops = boot(BUILDS[tree], accel, kernel, initrd,
                                        backend, n, seconds, depth)
                    if queues != n:
                        raise RuntimeError(f'guest saw {queues} queues, '
                                           f'wanted {n}')
                    samples[tree].append(iops)
                    progress(f'guest {accel} {backend:7} N={n} {tree:8} '
                             f'round {r + 1}: {iops:10.0f} IOPS '
                             f'({queues} queues)')
            for tree in trees:
                s = samples[tree]
                points.append({'tree': tree, 'backend': backend,
                               'threads': n, 'iops': statistics.median(s),
                               'min': min(s), 'max': max(s), 'samples': s})
    for p in points:
        one = [q for q in points if q['tree'] == p['tree'] and
               q['backend'] == p['backend'] and q['threads'] == 1]
        if one:
            p['efficiency'] = p['iops'] / (p['threads'] * one[0]['iops'])
    return points


def table(points):
    lines = ['| backend | N | tree | IOPS (median) | spread | efficiency |',
             '|---|---|---|---|---|---|']
    for p in points:
        eff = p.get('efficiency')
        eff = '-' if eff is None else f'{eff:.2f}'
        lines.append(f"| {p['backend']} | {p['threads']} | {p['tree']} | "
                     f"{p['iops']:.0f} | {p['min']:.0f}..{p['max']:.0f} | "
                     f"{eff} |")
    return '\n'.join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--accel', choices=['kvm', 'tcg'], default='kvm')
    ap.add_argument('--threads', default='1,2,4')
    ap.add_argument('--seconds', type=int, default=10)
    ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--trees', default='pristine,series')
    args = ap.parse_args()
    threads = [int(t) for t in args.threads.split(',')]
    trees = args.trees.split(',')
    points = measure(args.accel, trees, threads, args.seconds, args.rounds)
    if args.accel == 'tcg':
        print('Harness check under TCG: the guest booted, saw N queues and '
              'fio ran; these numbers are not performance data and are not '
              'written anywhere.')
        print(table(points))
        return 0
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, 'guest.json'), 'w') as f:
        json.dump(points, f, indent=1)
    with open(os.path.join(OUT, 'guest.md'), 'w') as f:
        f.write(table(points) + '\n')
    print(table(points))
    return 0


if __name__ == '__main__':
    sys.exit(main())
