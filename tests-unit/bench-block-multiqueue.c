/*
 * Block layer multiqueue benchmark
 *
 * N IOThreads submit 4 KiB requests at random offsets to one BlockBackend,
 * the way virtio-blk does with iothread-vq-mapping.  Each IOThread runs D
 * coroutines, each of them keeping one request in flight.  The program
 * reports IOPS in total and per IOThread and the CPU time per request.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <sys/resource.h>
#include "qemu/units.h"
#include "qemu/atomic.h"
#include "qemu/coroutine.h"
#include "qemu/cutils.h"
#include "qemu/error-report.h"
#include "qemu/main-loop.h"
#include "qemu/memalign.h"
#include "qemu/timer.h"
#include "qemu/thread.h"
#include "block/accounting.h"
#include "block/block.h"
#include "system/block-backend.h"
#include "qapi/error.h"
#include "qobject/qdict.h"
#include "iothread.h"

#define REQ_SIZE            4096
#define MAX_THREADS         64
#define MAX_DEPTH           1000    /* keeps the PRNG seeds distinct */
#define DEFAULT_SECONDS     5.0
#define DEFAULT_NULL_SIZE   (1 * GiB)
#define DEFAULT_FILE_SIZE   (256 * MiB)
#define FILL_CHUNK          (1 * MiB)
#define BATCH               16      /* requests per worker between yields */

typedef enum {
    BACKEND_NULL_CO,
    BACKEND_NULL_CO_ACCT,
    BACKEND_RAW,
    BACKEND_QCOW2,
    BACKEND_QCOW2_ALLOC,
    BACKEND_QCOW2_META,
    BACKEND__MAX,
} Backend;

typedef enum {
    MODE_READ,
    MODE_WRITE,
    MODE_MIXED,
    MODE__MAX,
} Mode;

static const char *const backend_names[BACKEND__MAX] = {
    [BACKEND_NULL_CO]       = "null-co",
    [BACKEND_NULL_CO_ACCT]  = "null-co-acct",
    [BACKEND_RAW]           = "raw",
    [BACKEND_QCOW2]         = "qcow2",
    [BACKEND_QCOW2_ALLOC]   = "qcow2-alloc",
    [BACKEND_QCOW2_META]    = "qcow2-meta",
};

static const char *const mode_names[MODE__MAX] = {
    [MODE_READ]     = "read",
    [MODE_WRITE]    = "write",
    [MODE_MIXED]    = "mixed",
};

typedef struct BenchOptions {
    Backend backend;
    Mode mode;
    int threads;
    int depth;
    uint64_t requests;      /* 0: run for @seconds instead */
    double seconds;
    const char *file;       /* NULL: temporary image */
    uint64_t size;          /* 0: default of the backend */
    const char *aio;        /* NULL: default of the driver (threads) */
    bool direct;
    int64_t latency_ns;     /* null-co only */
    bool separate;          /* one node and BlockBackend per IOThread */
    bool json;
} BenchOptions;

typedef struct BenchState BenchState;

typedef struct BenchThread {
    BenchState *s;
    IOThread *iothread;
    AioContext *ctx;
    BlockBackend *blk;      /* s->blk, or its own with --separate */
    int index;

    /*
     * Only accessed in the IOThread while the workers run, and by the main
     * thread before they start and after they have finished.
     */
    uint64_t remaining;     /* requests left to submit with --requests */
    uint64_t completed;
    uint64_t failed;
    int first_error;        /* negative errno of the first failed request */
    int active;             /* worker coroutines that have not finished */
    int64_t end_ns;
} BenchThread;

typedef struct BenchWorker {
    BenchThread *t;
    int index;
} BenchWorker;

struct BenchState {
    const BenchOptions *opts;
    BlockBackend *blk;
    uint64_t nr_blocks;
    BenchThread *threads;
    BenchWorker *workers;   /* opts->threads * opts->depth */
    bool stop;              /* atomic */
    QemuSemaphore done_sem; /* posted by each IOThread when it has finished */
};

static void usage(FILE *f)
{
    fprintf(f,
"Usage: bench-block-multiqueue [OPTIONS]\n"
"\n"
"N IOThreads with D coroutines each issue 4 KiB requests at random offsets\n"
"to one BlockBackend.\n"
"\n"
"  --backend null-co|null-co-acct|raw|qcow2|qcow2-alloc|qcow2-meta\n"
"                        (default null-co)\n"
"        null-co: null-co driver with read-zeroes=on (default size 1G)\n"
"        null-co-acct: null-co, and each request is accounted in the\n"
"        BlockBackend's statistics as a device does (block_acct_*())\n"
"        raw: file driver; qcow2: preallocated qcow2 on a file;\n"
"        qcow2-alloc: empty qcow2, so that writes allocate clusters;\n"
"        qcow2-meta: qcow2 with preallocated metadata on a file and an\n"
"        external data file that is a null-co node, so that only the\n"
"        cluster lookups cost\n"
"  --threads N           number of IOThreads (default 1, at most %d)\n"
"  --depth D             coroutines per IOThread (default 16, at most %d)\n"
"  --mode read|write|mixed   (default read; mixed: 50%% writes)\n"
"  --requests R          submit R requests in total, split evenly across\n"
"                        the IOThreads\n"
"  --seconds S           run for S seconds (default %g)\n"
"  --file PATH           raw, qcow2: use this existing image as it is\n"
"                        (its content is overwritten in write and mixed\n"
"                        mode) instead of a temporary one in /dev/shm\n"
"  --size BYTES          size of null-co and of temporary images (default\n"
"                        256M), or the part of --file to use\n"
"  --aio threads|native|io_uring   aio mode of the file driver\n"
"  --direct              cache.direct=on (default off; aio=native needs it)\n"
"  --latency-ns NS       null-co: latency of each request, so that requests\n"
"                        yield and several of them are in flight\n"
"  --separate            null-co: one node and BlockBackend per IOThread\n"
"                        in this process instead of one shared by all\n"
"                        (the process shares only global state)\n"
"  --json                also print the results as one JSON object line\n"
"  -h, --help            print this help\n",
            MAX_THREADS, MAX_DEPTH, DEFAULT_SECONDS);
}

static G_NORETURN G_GNUC_PRINTF(1, 2)
void usage_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    error_vreport(fmt, ap);
    va_end(ap);
    usage(stderr);
    exit(2);
}

static int parse_name(const char *arg, const char *const *names, int n,
                      const char *what)
{
    int i;

    for (i = 0; i < n; i++) {
        if (!strcmp(arg, names[i])) {
            return i;
        }
    }
    usage_error("Invalid %s '%s'", what, arg);
}

static int parse_int(const char *arg, const char *what, int min, int max)
{
    int val;

    if (qemu_strtoi(arg, NULL, 10, &val) < 0 || val < min || val > max) {
        usage_error("Invalid %s '%s' (must be from %d to %d)",
                    what, arg, min, max);
    }
    return val;
}

static void parse_args(int argc, char **argv, BenchOptions *opts)
{
    enum {
        OPT_BACKEND = 256,
        OPT_THREADS,
        OPT_DEPTH,
        OPT_MODE,
        OPT_REQUESTS,
        OPT_SECONDS,
        OPT_FILE,
        OPT_SIZE,
        OPT_AIO,
        OPT_DIRECT,
        OPT_LATENCY_NS,
        OPT_SEPARATE,
        OPT_JSON,
    };
    static const struct option long_options[] = {
        { "backend", required_argument, NULL, OPT_BACKEND },
        { "threads", required_argument, NULL, OPT_THREADS },
        { "depth", required_argument, NULL, OPT_DEPTH },
        { "mode", required_argument, NULL, OPT_MODE },
        { "requests", required_argument, NULL, OPT_REQUESTS },
        { "seconds", required_argument, NULL, OPT_SECONDS },
        { "file", required_argument, NULL, OPT_FILE },
        { "size", required_argument, NULL, OPT_SIZE },
        { "aio", required_argument, NULL, OPT_AIO },
        { "direct", no_argument, NULL, OPT_DIRECT },
        { "latency-ns", required_argument, NULL, OPT_LATENCY_NS },
        { "separate", no_argument, NULL, OPT_SEPARATE },
        { "json", no_argument, NULL, OPT_JSON },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    bool have_seconds = false;
    bool have_latency = false;
    int c;

    *opts = (BenchOptions) {
        .backend = BACKEND_NULL_CO,
        .mode = MODE_READ,
        .threads = 1,
        .depth = 16,
        .seconds = DEFAULT_SECONDS,
    };

    while ((c = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
        switch (c) {
        case OPT_BACKEND:
            opts->backend = parse_name(optarg, backend_names, BACKEND__MAX,
                                       "backend");
            break;
        case OPT_THREADS:
            opts->threads = parse_int(optarg, "number of threads", 1,
                                      MAX_THREADS);
            break;
        case OPT_DEPTH:
            opts->depth = parse_int(optarg, "depth", 1, MAX_DEPTH);
            break;
        case OPT_MODE:
            opts->mode = parse_name(optarg, mode_names, MODE__MAX, "mode");
            break;
        case OPT_REQUESTS:
            if (qemu_strtou64(optarg, NULL, 10, &opts->requests) < 0 ||
                opts->requests == 0) {
                usage_error("Invalid number of requests '%s'", optarg);
            }
            break;
        case OPT_SECONDS:
            if (qemu_strtod_finite(optarg, NULL, &opts->seconds) < 0 ||
                opts->seconds <= 0 || opts->seconds > 1e6) {
                usage_error("Invalid number of seconds '%s'", optarg);
            }
            have_seconds = true;
            break;
        case OPT_FILE:
            opts->file = optarg;
            break;
        case OPT_SIZE:
            if (qemu_strtosz(optarg, NULL, &opts->size) < 0 ||
                opts->size < REQ_SIZE || opts->size % REQ_SIZE ||
                opts->size > INT64_MAX) {
                usage_error("Invalid size '%s' (must be a non-zero multiple "
                            "of %d)", optarg, REQ_SIZE);
            }
            break;
        case OPT_AIO:
            if (strcmp(optarg, "threads") && strcmp(optarg, "native") &&
                strcmp(optarg, "io_uring")) {
                usage_error("Invalid aio mode '%s'", optarg);
            }
            opts->aio = optarg;
            break;
        case OPT_DIRECT:
            opts->direct = true;
            break;
        case OPT_LATENCY_NS:
            if (qemu_strtoi64(optarg, NULL, 10, &opts->latency_ns) < 0 ||
                opts->latency_ns < 0) {
                usage_error("Invalid latency '%s'", optarg);
            }
            have_latency = true;
            break;
        case OPT_SEPARATE:
            opts->separate = true;
            break;
        case OPT_JSON:
            opts->json = true;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            /* getopt_long() has printed the error */
            usage(stderr);
            exit(2);
        }
    }

    if (optind < argc) {
        usage_error("Unexpected argument '%s'", argv[optind]);
    }
    if (opts->requests && have_seconds) {
        usage_error("--requests and --seconds are mutually exclusive");
    }
    if (opts->backend == BACKEND_NULL_CO ||
        opts->backend == BACKEND_NULL_CO_ACCT) {
        if (opts->file || opts->aio || opts->direct) {
            usage_error("--file, --aio and --direct need a file-based "
                        "backend");
        }
    } else if (have_latency || opts->separate) {
        usage_error("--latency-ns and --separate need backend null-co");
    }
    if (opts->backend == BACKEND_QCOW2_ALLOC && opts->file) {
        usage_error("qcow2-alloc always creates a fresh temporary image");
    }
}

/*
 * Create a temporary file, in /dev/shm if possible, and fill it with
 * @fill_size bytes of zeroes so that it is fully allocated.
 */
static char *create_tmp_file(uint64_t fill_size, Error **errp)
{
    const char *dir = "/dev/shm";
    g_autofree void *buf = NULL;
    char *path;
    uint64_t done;
    int fd;

    if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
        dir = g_get_tmp_dir();
    }
    path = g_strdup_printf("%s/bench-block-multiqueue.XXXXXX", dir);
    fd = g_mkstemp(path);
    if (fd < 0) {
        error_setg_errno(errp, errno, "Could not create a temporary file "
                         "in %s", dir);
        g_free(path);
        return NULL;
    }

    buf = g_malloc0(FILL_CHUNK);
    for (done = 0; done < fill_size; done += FILL_CHUNK) {
        size_t len = MIN(FILL_CHUNK, fill_size - done);

        if (qemu_write_full(fd, buf, len) != (ssize_t)len) {
            error_setg_errno(errp, errno, "Could not fill '%s'", path);
            close(fd);
            unlink(path);
            g_free(path);
            return NULL;
        }
    }

    close(fd);
    return path;
}

/*
 * Return the options for blk_new_open(), creating the temporary image first
 * if one is needed.  Its name is returned in @tmp_path.
 */
static QDict *backend_options(const BenchOptions *opts, char **tmp_path,
                              Error **errp)
{
    ERRP_GUARD();
    QDict *options = qdict_new();
    uint64_t size = opts->size ?: DEFAULT_FILE_SIZE;
    const char *path = opts->file;
    const char *aio_key = "aio";

    *tmp_path = NULL;

    switch (opts->backend) {
    case BACKEND_NULL_CO:
    case BACKEND_NULL_CO_ACCT:
        qdict_put_str(options, "driver", "null-co");
        qdict_put_int(options, "size", opts->size ?: DEFAULT_NULL_SIZE);
        qdict_put_str(options, "read-zeroes", "on");
        if (opts->latency_ns) {
            qdict_put_int(options, "latency-ns", opts->latency_ns);
        }
        return options;
    case BACKEND_RAW:
        if (!path) {
            *tmp_path = create_tmp_file(size, errp);
            if (!*tmp_path) {
                goto fail;
            }
            path = *tmp_path;
        }
        qdict_put_str(options, "driver", "file");
        qdict_put_str(options, "filename", path);
        break;
    case BACKEND_QCOW2:
    case BACKEND_QCOW2_ALLOC:
    case BACKEND_QCOW2_META:
        if (!path) {
            g_autofree char *create_opts = NULL;
            g_autofree char *data_path = NULL;

            *tmp_path = create_tmp_file(0, errp);
            if (!*tmp_path) {
                goto fail;
            }
            path = *tmp_path;
            if (opts->backend == BACKEND_QCOW2) {
                create_opts = g_strdup("preallocation=full");
            } else if (opts->backend == BACKEND_QCOW2_META) {
                data_path = g_strdup_printf("%s.data", path);
                create_opts = g_strdup_printf("preallocation=metadata,"
                                              "data_file=%s", data_path);
            }
            bdrv_img_create(path, "qcow2", NULL, NULL, create_opts, size,
                            BDRV_O_RDWR, true, errp);
            if (data_path) {
                /* null-co replaces it below */
                unlink(data_path);
            }
            if (*errp) {
                goto fail;
            }
        }
        if (opts->backend == BACKEND_QCOW2_META) {
            qdict_put_str(options, "data-file.driver", "null-co");
            qdict_put_int(options, "data-file.size", size);
            qdict_put_str(options, "data-file.read-zeroes", "on");
        }
        qdict_put_str(options, "driver", "qcow2");
        qdict_put_str(options, "file.driver", "file");
        qdict_put_str(options, "file.filename", path);
        aio_key = "file.aio";
        break;
    default:
        g_assert_not_reached();
    }

    qdict_put_str(options, "cache.direct", opts->direct ? "on" : "off");
    if (opts->aio) {
        qdict_put_str(options, aio_key, opts->aio);
    }
    return options;

fail:
    qobject_unref(options);
    return NULL;
}

static uint64_t random_block(GRand *rand, uint64_t nr_blocks)
{
    uint64_t r;

    r = (uint64_t)g_rand_int(rand) << 32;
    r |= g_rand_int(rand);
    return r % nr_blocks;
}

static bool worker_continue(BenchThread *t)
{
    if (!t->s->opts->requests) {
        return !qatomic_read(&t->s->stop);
    }
    if (t->remaining == 0) {
        return false;
    }
    t->remaining--;
    return true;
}

static void coroutine_fn worker_co(void *opaque)
{
    BenchWorker *w = opaque;
    BenchThread *t = w->t;
    BenchState *s = t->s;
    BlockBackend *blk = t->blk;
    Mode mode = s->opts->mode;
    bool acct = s->opts->backend == BACKEND_NULL_CO_ACCT;
    GRand *rand = g_rand_new_with_seed(t->index * MAX_DEPTH + w->index);
    void *buf = blk_blockalign(blk, REQ_SIZE);
    unsigned batch = 0;

    memset(buf, 0xa5, REQ_SIZE);

    while (worker_continue(t)) {
        int64_t offset = random_block(rand, s->nr_blocks) * REQ_SIZE;
        bool write = mode == MODE_WRITE ||
                     (mode == MODE_MIXED && g_rand_boolean(rand));
        BlockAcctCookie cookie;
        int ret;

        if (acct) {
            block_acct_start(blk_get_stats(blk), &cookie, REQ_SIZE,
                             write ? BLOCK_ACCT_WRITE : BLOCK_ACCT_READ);
        }
        if (write) {
            ret = blk_co_pwrite(blk, offset, REQ_SIZE, buf, 0);
        } else {
            ret = blk_co_pread(blk, offset, REQ_SIZE, buf, 0);
        }
        if (acct) {
            if (ret < 0) {
                block_acct_failed(blk_get_stats(blk), &cookie);
            } else {
                block_acct_done(blk_get_stats(blk), &cookie);
            }
        }

        t->completed++;
        if (ret < 0) {
            if (!t->failed) {
                t->first_error = ret;
            }
            t->failed++;
        }

        /*
         * Requests that complete without yielding (null-co, cached qcow2
         * lookups) would keep this coroutine running forever, and the
         * IOThread would never run the coroutines that other threads wake
         * in it (a CoMutex handed over, a request completed elsewhere).
         * Return to the event loop after a batch, as a device does after
         * processing a virtqueue.
         */
        if (++batch == BATCH) {
            batch = 0;
            aio_co_schedule(qemu_get_current_aio_context(),
                            qemu_coroutine_self());
            qemu_coroutine_yield();
        }
    }

    qemu_vfree(buf);
    g_rand_free(rand);

    if (--t->active == 0) {
        t->end_ns = get_clock();
        qemu_sem_post(&s->done_sem);
    }
}

/* Runs in the IOThread: start its worker coroutines there */
static void start_workers_bh(void *opaque)
{
    BenchThread *t = opaque;
    int depth = t->s->opts->depth;
    int i;

    for (i = 0; i < depth; i++) {
        BenchWorker *w = &t->s->workers[t->index * depth + i];
        Coroutine *co = qemu_coroutine_create(worker_co, w);

        aio_co_enter(t->ctx, co);
    }
}

static double timeval_seconds(const struct timeval *tv)
{
    return tv->tv_sec + tv->tv_usec / 1e6;
}

static void print_results(BenchState *s, int64_t start_ns,
                          const struct rusage *ru_start,
                          const struct rusage *ru_end)
{
    const BenchOptions *opts = s->opts;
    g_autofree double *thread_iops = g_new(double, opts->threads);
    uint64_t completed = 0, failed = 0;
    int64_t end_ns = start_ns;
    double wall, user, sys, iops, cpu_us;
    int i;

    for (i = 0; i < opts->threads; i++) {
        BenchThread *t = &s->threads[i];
        double t_wall = (t->end_ns - start_ns) / 1e9;

        completed += t->completed;
        failed += t->failed;
        end_ns = MAX(end_ns, t->end_ns);
        thread_iops[i] = t->completed && t_wall > 0 ?
                         t->completed / t_wall : 0;
    }

    wall = (end_ns - start_ns) / 1e9;
    user = timeval_seconds(&ru_end->ru_utime) -
           timeval_seconds(&ru_start->ru_utime);
    sys = timeval_seconds(&ru_end->ru_stime) -
          timeval_seconds(&ru_start->ru_stime);
    iops = wall > 0 ? completed / wall : 0;
    cpu_us = completed ? (user + sys) * 1e6 / completed : 0;

    printf("backend:          %s\n", backend_names[opts->backend]);
    printf("mode:             %s\n", mode_names[opts->mode]);
    printf("threads x depth:  %d x %d\n", opts->threads, opts->depth);
    printf("image size:       %" PRIu64 " bytes\n",
           s->nr_blocks * REQ_SIZE);
    printf("requests:         %" PRIu64 " (%" PRIu64 " failed)\n",
           completed, failed);
    printf("seconds:          %.3f\n", wall);
    printf("IOPS total:       %.0f\n", iops);
    for (i = 0; i < opts->threads; i++) {
        printf("IOPS thread %-3d   %.0f\n", i, thread_iops[i]);
    }
    printf("CPU seconds:      %.3f (user %.3f, sys %.3f)\n",
           user + sys, user, sys);
    printf("CPU us/request:   %.3f\n", cpu_us);

    if (opts->json) {
        printf("{\"backend\": \"%s\", \"mode\": \"%s\", \"threads\": %d, "
               "\"depth\": %d, \"requests\": %" PRIu64 ", "
               "\"failed\": %" PRIu64 ", \"seconds\": %.6f, "
               "\"iops_total\": %.1f, \"iops_per_thread\": [",
               backend_names[opts->backend], mode_names[opts->mode],
               opts->threads, opts->depth, completed, failed, wall, iops);
        for (i = 0; i < opts->threads; i++) {
            printf("%s%.1f", i ? ", " : "", thread_iops[i]);
        }
        printf("], \"cpu_seconds\": %.6f, \"cpu_us_per_request\": %.4f}\n",
               user + sys, cpu_us);
    }
}

int main(int argc, char **argv)
{
    BenchOptions opts;
    BenchState s = { .opts = &opts };
    Error *local_err = NULL;
    char *tmp_path = NULL;
    QDict *options;
    struct rusage ru_start, ru_end;
    uint64_t failed = 0;
    int64_t start_ns, len;
    int first_error = 0;
    int ret = 1;
    int i, j;

    error_init(argv[0]);
    parse_args(argc, argv, &opts);
    qemu_sem_init(&s.done_sem, 0);

    bdrv_init();
    qemu_init_main_loop(&error_fatal);

    options = backend_options(&opts, &tmp_path, &local_err);
    if (!options) {
        error_report_err(local_err);
        goto out;
    }

    s.blk = blk_new_open(NULL, NULL, options, BDRV_O_RDWR, &local_err);
    if (!s.blk) {
        error_report_err(local_err);
        goto out;
    }

    len = blk_getlength(s.blk);
    if (len < 0) {
        error_report("Could not get the image size: %s", strerror(-len));
        goto out;
    }
    if (opts.size && opts.file) {
        if (opts.size > len) {
            error_report("--size %" PRIu64 " exceeds the image size %" PRId64,
                         opts.size, len);
            goto out;
        }
        len = opts.size;
    }
    s.nr_blocks = len / REQ_SIZE;
    if (s.nr_blocks == 0) {
        error_report("The image is smaller than %d bytes", REQ_SIZE);
        goto out;
    }

    s.threads = g_new0(BenchThread, opts.threads);
    s.workers = g_new0(BenchWorker, opts.threads * opts.depth);
    for (i = 0; i < opts.threads; i++) {
        BenchThread *t = &s.threads[i];

        t->s = &s;
        t->index = i;
        t->iothread = iothread_new();
        t->ctx = iothread_get_aio_context(t->iothread);
        t->blk = s.blk;
        if (opts.separate && i > 0) {
            options = backend_options(&opts, &tmp_path, &local_err);
            t->blk = options ? blk_new_open(NULL, NULL, options, BDRV_O_RDWR,
                                            &local_err) : NULL;
            if (!t->blk) {
                error_report_err(local_err);
                goto out;
            }
        }
        t->remaining = opts.requests / opts.threads +
                       ((uint64_t)i < opts.requests % opts.threads);
        t->active = opts.depth;
        for (j = 0; j < opts.depth; j++) {
            s.workers[i * opts.depth + j] = (BenchWorker) {
                .t = t,
                .index = j,
            };
        }
    }

    /*
     * Like virtio-blk with iothread-vq-mapping: the BlockBackend's home
     * context is the first IOThread, but all of them submit requests.
     */
    for (i = 0; i < (opts.separate ? opts.threads : 1); i++) {
        if (blk_set_aio_context(s.threads[i].blk, s.threads[i].ctx,
                                &local_err) < 0) {
            error_report_err(local_err);
            goto out;
        }
    }

    /* Timed phase */
    getrusage(RUSAGE_SELF, &ru_start);
    start_ns = get_clock();
    for (i = 0; i < opts.threads; i++) {
        aio_bh_schedule_oneshot(s.threads[i].ctx, start_workers_bh,
                                &s.threads[i]);
    }
    if (!opts.requests) {
        g_usleep(opts.seconds * G_USEC_PER_SEC);
        qatomic_set(&s.stop, true);
    }
    /*
     * Don't wait with AIO_WAIT_WHILE(): while the main thread is a waiter,
     * every request completion kicks it (aio_wait_kick() in
     * bdrv_dec_in_flight() and blk_dec_in_flight()), which costs a syscall
     * and a wakeup per request.  A running QEMU doesn't wait like that.
     */
    for (i = 0; i < opts.threads; i++) {
        qemu_sem_wait(&s.done_sem);
    }
    getrusage(RUSAGE_SELF, &ru_end);

    print_results(&s, start_ns, &ru_start, &ru_end);

    for (i = 0; i < opts.threads; i++) {
        if (s.threads[i].failed && !failed) {
            first_error = s.threads[i].first_error;
        }
        failed += s.threads[i].failed;
    }
    if (failed) {
        error_report("%" PRIu64 " requests failed, the first one with: %s",
                     failed, strerror(-first_error));
    } else {
        ret = 0;
    }

    for (i = 0; i < (opts.separate ? opts.threads : 1); i++) {
        blk_set_aio_context(s.threads[i].blk, qemu_get_aio_context(),
                            &error_abort);
    }

out:
    for (i = 1; s.threads && i < opts.threads; i++) {
        if (s.threads[i].blk != s.blk) {
            blk_unref(s.threads[i].blk);
        }
    }
    blk_unref(s.blk);
    for (i = 0; s.threads && i < opts.threads; i++) {
        if (s.threads[i].iothread) {
            iothread_join(s.threads[i].iothread);
        }
    }
    g_free(s.threads);
    g_free(s.workers);
    qemu_sem_destroy(&s.done_sem);
    if (tmp_path) {
        unlink(tmp_path);
        g_free(tmp_path);
    }
    return ret;
}
