# A small legacy virtio-blk-pci driver that runs over the qtest protocol
#
# It lets a guest-less (qtest accel) VM started by the iotests framework do
# real, verified I/O on every virtqueue of a virtio-blk device, so that a
# test can keep IOThreads busy while it drives QMP commands.  Only what the
# tests need: the legacy (virtio 0.9.5) I/O port interface of a
# transitional virtio-blk-pci device on the i440fx root bus, split rings,
# one three-descriptor chain per request, no interrupts (completion is seen
# by polling the used ring).  The layout follows the virtio 1.x spec,
# section 4.1.4.8 (legacy interface) and 2.6 (split virtqueues).
#
# SPDX-License-Identifier: GPL-2.0-or-later

import base64
import random
import struct
import time
from typing import Dict, List, Optional

# Legacy virtio-pci registers (offsets in BAR 0)
REG_HOST_FEATURES = 0
REG_GUEST_FEATURES = 4
REG_QUEUE_PFN = 8
REG_QUEUE_NUM = 12
REG_QUEUE_SEL = 14
REG_QUEUE_NOTIFY = 16
REG_STATUS = 18
REG_CONFIG = 20             # device config while MSI-X is off

STATUS_ACK = 1
STATUS_DRIVER = 2
STATUS_DRIVER_OK = 4

F_BLK_FLUSH = 1 << 9
F_BLK_MQ = 1 << 12

T_IN = 0
T_OUT = 1
T_FLUSH = 4

S_OK = 0
S_IOERR = 1

DESC_F_NEXT = 1
DESC_F_WRITE = 2

PAGE = 4096
SLOT_DATA = 128 * 1024      # largest request of a slot


class Request:
    def __init__(self, queue: int, slot: int, kind: int, offset: int,
                 data: bytes, length: int):
        self.queue = queue
        self.slot = slot
        self.kind = kind
        self.offset = offset
        self.data = data            # what a write wrote, a read expects
        self.length = length
        self.status: Optional[int] = None

    def __repr__(self) -> str:
        name = {T_IN: 'read', T_OUT: 'write', T_FLUSH: 'flush'}[self.kind]
        return (f'{name}(vq {self.queue} slot {self.slot} '
                f'offset {self.offset} len {self.length})')


class VirtQueue:
    def __init__(self, dev: 'LegacyVirtioBlk', index: int, ring: int,
                 bufs: int):
        self.dev = dev
        self.index = index
        dev.outw(REG_QUEUE_SEL, index)
        self.size = dev.inw(REG_QUEUE_NUM)
        assert self.size >= 3, f'vq {index} has {self.size} entries'
        self.desc = ring
        self.avail = ring + 16 * self.size
        used = self.avail + 6 + 2 * self.size
        self.used = (used + PAGE - 1) // PAGE * PAGE
        self.bufs = bufs
        self.slots = min(self.size // 3, 16)
        self.avail_idx = 0
        self.used_idx = 0
        self.inflight: Dict[int, Request] = {}
        dev.vm.qtest(f'memset {ring:#x} {self.used + 6 + 8 * self.size - ring}'
                     f' 0')
        dev.outl(REG_QUEUE_PFN, ring // PAGE)

    def free_slots(self) -> List[int]:
        return [s for s in range(self.slots) if s not in self.inflight]

    def slot_addrs(self, slot: int):
        base = self.bufs + slot * (SLOT_DATA + PAGE)
        return base, base + 16, base + 16 + SLOT_DATA

    def add(self, req: Request) -> None:
        """Queue @req in the avail ring; kick() makes it visible."""
        assert req.slot not in self.inflight
        hdr, data, status = self.slot_addrs(req.slot)
        vm = self.dev.vm
        vm.qtest(f'writeb {status:#x} 0xff')
        self.dev.write(hdr, struct.pack('<IIQ', req.kind, 0,
                                        req.offset // 512))
        if req.kind == T_OUT:
            self.dev.write(data, req.data)
        head = req.slot * 3
        descs = [struct.pack('<QIHH', hdr, 16, DESC_F_NEXT, head + 1)]
        if req.kind != T_FLUSH:
            flags = DESC_F_NEXT | (DESC_F_WRITE if req.kind == T_IN else 0)
            descs.append(struct.pack('<QIHH', data, req.length, flags,
                                     head + 2))
        descs.append(struct.pack('<QIHH', status, 1, DESC_F_WRITE, 0))
        if len(descs) == 2:
            descs[0] = struct.pack('<QIHH', hdr, 16, DESC_F_NEXT, head + 2)
            self.dev.write(self.desc + 16 * head, descs[0])
            self.dev.write(self.desc + 16 * (head + 2), descs[1])
        else:
            self.dev.write(self.desc + 16 * head, b''.join(descs))
        pos = self.avail + 4 + 2 * (self.avail_idx % self.size)
        vm.qtest(f'writew {pos:#x} {head:#x}')
        self.avail_idx = (self.avail_idx + 1) & 0xffff
        self.inflight[req.slot] = req

    def kick(self) -> None:
        self.dev.vm.qtest(f'writew {self.avail + 2:#x} {self.avail_idx:#x}')
        self.dev.outw(REG_QUEUE_NOTIFY, self.index)

    def reap(self) -> List[Request]:
        """Collect the requests the device completed so far."""
        idx = self.dev.readw(self.used + 2)
        done = []
        while self.used_idx != idx:
            pos = self.used + 4 + 8 * (self.used_idx % self.size)
            head, _ = struct.unpack('<II', self.dev.read(pos, 8))
            assert head % 3 == 0, f'vq {self.index}: bad used id {head}'
            req = self.inflight.pop(head // 3, None)
            assert req is not None, \
                f'vq {self.index}: used id {head} completed twice or unknown'
            _, data, status = self.slot_addrs(req.slot)
            req.status = self.dev.read(status, 1)[0]
            if req.kind == T_IN and req.status == S_OK:
                got = self.dev.read(data, req.length)
                if got != req.data:
                    bad = next(i for i in range(req.length)
                               if got[i] != req.data[i])
                    raise AssertionError(
                        f'{req}: data mismatch at byte {bad} '
                        f'(got {got[bad]:#x}, expected {req.data[bad]:#x})')
            done.append(req)
            self.used_idx = (self.used_idx + 1) & 0xffff
        return done


class LegacyVirtioBlk:
    """A virtio-blk-pci device on bus 0, slot @slot, with BAR 0 at @io."""

    def __init__(self, vm, slot: int, io: int, mem: int):
        self.vm = vm
        self.slot = slot
        self.io = io
        vendor = self.cfg_read(0)
        assert vendor == 0x10011af4, \
            f'slot {slot}: not virtio-blk ({vendor:#x})'
        self.cfg_write(0x10, io | 1)
        self.cfg_write(0x04, 0x5)               # I/O space, bus master
        self.outb(REG_STATUS, 0)
        self.outb(REG_STATUS, STATUS_ACK | STATUS_DRIVER)
        features = self.inl(REG_HOST_FEATURES)
        assert features & F_BLK_MQ, 'device does not offer multiqueue'
        self.outl(REG_GUEST_FEATURES, features & (F_BLK_MQ | F_BLK_FLUSH))
        nq = self.inw(REG_CONFIG + 34)          # virtio_blk_config.num_queues
        self.queues = [VirtQueue(self, i, mem + i * 0x10000,
                                 mem + 0x100000 + i * 0x400000)
                       for i in range(nq)]
        self.outb(REG_STATUS, STATUS_ACK | STATUS_DRIVER | STATUS_DRIVER_OK)

    # qtest helpers
    def cfg_addr(self, reg: int) -> int:
        return 0x80000000 | (self.slot << 11) | reg

    def cfg_read(self, reg: int) -> int:
        self.vm.qtest(f'outl 0xcf8 {self.cfg_addr(reg):#x}')
        return int(self.vm.qtest('inl 0xcfc').split()[1], 16)

    def cfg_write(self, reg: int, val: int) -> None:
        self.vm.qtest(f'outl 0xcf8 {self.cfg_addr(reg):#x}')
        self.vm.qtest(f'outl 0xcfc {val:#x}')

    def _in(self, width: str, reg: int) -> int:
        return int(self.vm.qtest(f'in{width} {self.io + reg:#x}').split()[1],
                   16)

    def inb(self, reg: int) -> int:
        return self._in('b', reg)

    def inw(self, reg: int) -> int:
        return self._in('w', reg)

    def inl(self, reg: int) -> int:
        return self._in('l', reg)

    def outb(self, reg: int, val: int) -> None:
        self.vm.qtest(f'outb {self.io + reg:#x} {val:#x}')

    def outw(self, reg: int, val: int) -> None:
        self.vm.qtest(f'outw {self.io + reg:#x} {val:#x}')

    def outl(self, reg: int, val: int) -> None:
        self.vm.qtest(f'outl {self.io + reg:#x} {val:#x}')

    def readw(self, addr: int) -> int:
        return int(self.vm.qtest(f'readw {addr:#x}').split()[1], 16)

    def read(self, addr: int, size: int) -> bytes:
        resp = self.vm.qtest(f'b64read {addr:#x} {size}').split()
        assert resp[0] == 'OK', resp
        return base64.b64decode(resp[1])

    def write(self, addr: int, data: bytes) -> None:
        b64 = base64.b64encode(data).decode('ascii')
        resp = self.vm.qtest(f'b64write {addr:#x} {len(data)} {b64}')
        assert resp.strip() == 'OK', resp

    def capacity(self) -> int:
        lo = self.inl(REG_CONFIG)
        hi = self.inl(REG_CONFIG + 4)
        return ((hi << 32) | lo) * 512

    def inflight(self) -> int:
        return sum(len(q.inflight) for q in self.queues)

    def wait(self, timeout: float = 60.0, step=None) -> List[Request]:
        """Wait until every queued request completed; return them.

        @step is called while waiting (e.g. to advance the qtest clock for
        throttled requests)."""
        done: List[Request] = []
        deadline = time.monotonic() + timeout
        while True:
            for q in self.queues:
                done += q.reap()
            if not self.inflight():
                return done
            if time.monotonic() > deadline:
                stuck = [r for q in self.queues for r in q.inflight.values()]
                raise AssertionError(f'requests did not complete: {stuck}')
            if step:
                step()
            else:
                time.sleep(0.001)

    def reset(self) -> None:
        self.outb(REG_STATUS, 0)


class Disk:
    """A virtio-blk device and the data its guest expects on it."""

    def __init__(self, dev: LegacyVirtioBlk, size: int,
                 rng: random.Random):
        self.dev = dev
        self.rng = rng
        self.model = bytearray(size)
        self.region = size // len(dev.queues)
        self.done = 0

    def submit(self, max_depth: int = 8, weights=(9, 9, 2)) -> None:
        """Queue a random batch on every virtqueue and kick them all.

        @weights: relative frequency of reads, writes and flushes."""
        for q in self.dev.queues:
            busy = [(r.offset, r.offset + r.length)
                    for r in q.inflight.values()]
            for slot in q.free_slots()[:self.rng.randint(1, max_depth)]:
                kind = self.rng.choices([T_IN, T_OUT, T_FLUSH], weights)[0]
                if kind == T_FLUSH:
                    q.add(Request(q.index, slot, kind, 0, b'', 0))
                    continue
                length = self.rng.choice([512, 4096, 4096, 16384, 65536])
                start = q.index * self.region
                offset = start + self.rng.randrange(0, self.region - length,
                                                    512)
                if any(offset < e and offset + length > s for s, e in busy):
                    continue
                busy.append((offset, offset + length))
                if kind == T_OUT:
                    data = self.rng.randbytes(length)
                    self.model[offset:offset + length] = data
                else:
                    data = bytes(self.model[offset:offset + length])
                q.add(Request(q.index, slot, kind, offset, data, length))
        for q in self.dev.queues:
            q.kick()

    def wait(self, step=None) -> None:
        for req in self.dev.wait(step=step):
            assert req.status == S_OK, f'{req}: status {req.status}'
            self.done += 1
