/*
 * freelists N: the main thread and N threads (0 <= N <= 64), each in its own glibc arena, build known free lists:
 *   small and large bins (frees of 100 B .. 200 KiB between kept blocks, then a 3 MiB malloc that sorts them),
 *   fastbins (frees of 24..120 B beyond tcache's 7 per size, between kept blocks, done after every large free:
 *   a free of 64 KiB or more would consolidate them),
 *   unsorted chunks (frees of 2..30 KiB last), a 2 MiB block given back to the main arena's top (kept there:
 *   M_TRIM_THRESHOLD is 512 MiB), and 3 chunks of 5 MiB mmapped on their own (M_MMAP_THRESHOLD 4 MiB).
 * Every block is written, so free chunks' pages are resident. Chunks freed into fastbins sit between kept blocks,
 * so malloc_trim's consolidation merges nothing.
 *
 * Prints "READY <pid>" once every thread is done, then reads commands (read(2), no stdio buffer: nothing mallocs):
 *   stats  -> malloc_stats() and malloc_info(0, stderr) on stderr, then "STATS-DONE" on stdout
 *   quit   -> exit 0 (EOF does the same)
 *
 * Build: gcc -O2 -pthread -o freelists freelists.c
 */
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SLOTS 600

static pthread_barrier_t start_barrier, done_barrier;
/* Every block kept to the end, per thread (never read: holding them is the point). */
__thread void *kept[SLOTS * 8];

static void *take(size_t size)
{
    void *p = malloc(size);
    if (p == NULL) {
        perror("malloc");
        exit(1);
    }
    memset(p, 0x5a, size);
    return p;
}

/* A deterministic size for slot i of arena seed s, from small-bin to large-bin sizes. */
static size_t binned_size(int s, int i)
{
    unsigned v = (unsigned)(i * 2654435761u) ^ (unsigned)(s * 40503u);
    switch (i % 4) {
    case 0: return 100 + v % 900;          /* small bins (tcache takes the first 7 of a size) */
    case 1: return 1100 + v % 7000;        /* large bins below a page ... */
    case 2: return 9000 + v % 60000;       /* ... and with whole pages inside */
    default: return 70000 + v % 130000;    /* large, below the 4 MiB mmap threshold */
    }
}

static void build(int seed, int main_arena)
{
    void *binned[SLOTS], *late[SLOTS / 4], *fast[SLOTS];
    int k = 0;

    for (int i = 0; i < SLOTS; i++) {
        binned[i] = take(binned_size(seed, i));
        kept[k++] = take(48);
    }
    for (int i = 0; i < SLOTS / 4; i++) {
        late[i] = take(2000 + (size_t)((i * 7919 + seed * 31) % 28000));
        kept[k++] = take(48);
    }
    for (int i = 0; i < 3; i++)
        kept[k++] = take(5 << 20);

    /* Into the unsorted bin, then sorted into small and large bins by a request nothing free can meet. */
    for (int i = 0; i < SLOTS; i++)
        free(binned[i]);
    kept[k++] = take(3 << 20);

    if (main_arena) {
        /* A top of 2 MiB and more, resident, that only malloc_trim gives back. */
        void *big = take(2 << 20);
        free(big);
    }

    /* Fastbins: 20 of each size from 24 to 120 bytes, each between two kept blocks; tcache takes 7 of each. */
    for (int i = 0; i < SLOTS; i++) {
        fast[i] = take(24 + (size_t)(i % 7) * 16);
        kept[k++] = take(24);
    }
    for (int i = 0; i < 140; i++)
        free(fast[i]);

    /* Unsorted: freed last, between kept blocks, too big for tcache and too small to consolidate. */
    for (int i = 0; i < SLOTS / 4; i += 2)
        free(late[i]);
}

static void *worker(void *arg)
{
    int seed = (int)(long)arg;
    pthread_barrier_wait(&start_barrier);
    /* The first malloc of each worker, all at once: each gets its own arena (see arenas.c). */
    free(take(1024));
    pthread_barrier_wait(&start_barrier);
    build(seed, 0);
    pthread_barrier_wait(&done_barrier);

    for (;;)
        pause();
    return NULL;
}

static void say(const char *text)
{
    if (write(1, text, strlen(text)) < 0)
        exit(1);
}

int main(int argc, char **argv)
{
    int n = argc == 2 ? atoi(argv[1]) : -1;
    if (n < 0 || n > 64)
        return 2; /* freelists N, 0 <= N <= 64 */

    mallopt(M_TRIM_THRESHOLD, 512 << 20);
    mallopt(M_MMAP_THRESHOLD, 4 << 20);
    free(take(16));

    pthread_t tids[64];
    if (n > 0)
        pthread_barrier_init(&start_barrier, NULL, (unsigned)n);
    pthread_barrier_init(&done_barrier, NULL, (unsigned)n + 1);
    for (int i = 0; i < n; i++) {
        if (pthread_create(&tids[i], NULL, worker, (void *)(long)(i + 1)) != 0) {
            perror("pthread_create");
            return 1;
        }
    }
    build(0, 1);
    pthread_barrier_wait(&done_barrier);

    char line[64];
    snprintf(line, sizeof line, "READY %d\n", (int)getpid());
    say(line);

    for (;;) {
        char command[16];
        ssize_t got = read(0, command, sizeof command - 1);
        if (got <= 0 || strncmp(command, "quit", 4) == 0)
            break;
        if (strncmp(command, "stats", 5) == 0) {
            malloc_stats();
            malloc_info(0, stderr);
            say("STATS-DONE\n");
        }
    }

    /* The workers hold their blocks to the end: leave without waking them. */
    _exit(0);
}
