/*
 * LD_PRELOAD shim for running QEMU programs under valgrind: make liburing's
 * io_uring_queue_init() fail, so that AioContexts fall back to epoll/poll.
 * valgrind 3.19 hangs when an IOThread blocks in io_uring_enter().
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <errno.h>

struct io_uring;

int io_uring_queue_init(unsigned entries, struct io_uring *ring,
                        unsigned flags);

int io_uring_queue_init(unsigned entries, struct io_uring *ring,
                        unsigned flags)
{
    return -ENOSYS;
}
