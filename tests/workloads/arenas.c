/*
 * arenas N: start N threads that each malloc (concurrently, behind a barrier so
 * they contend for the arena lock) and keep a few small blocks, so that glibc
 * gives each thread its own arena (up to the limit: 8 x cores, or MALLOC_ARENA_MAX).
 *
 * Prints "READY <pid>" on stdout once every thread holds its blocks, then reads
 * lines from stdin:
 *   stats  -> malloc_stats() (prints "Arena N:" blocks to stderr), then "STATS-DONE" on stdout
 *   quit   -> exit 0 (EOF does the same)
 * The threads stay blocked until the process exits, so /proc/PID/task has N + 1 entries.
 *
 * Build: gcc -O2 -pthread -o arenas arenas.c
 */
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLOCKS_PER_THREAD 8
#define BLOCK_SIZE 1024

static pthread_barrier_t start_barrier; /* all workers allocate at the same time */
static pthread_barrier_t done_barrier;  /* workers + main: everyone has allocated */
static pthread_mutex_t hold_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hold_cond = PTHREAD_COND_INITIALIZER;
static int quitting;

static void *worker(void *arg)
{
    (void)arg;
    void *blocks[BLOCKS_PER_THREAD];

    pthread_barrier_wait(&start_barrier);
    /* A thread's first malloc (tcache_init) attaches it to an arena: glibc
     * (arena_get2) reuses an arena left free by an exited thread, else creates a
     * new one while the count is below the limit, else shares an existing one.
     * No thread exits before READY, so each worker gets its own arena up to the
     * limit; the barrier makes the allocations contend as well. */
    for (int i = 0; i < BLOCKS_PER_THREAD; i++) {
        blocks[i] = malloc(BLOCK_SIZE);
        if (blocks[i] == NULL) {
            perror("malloc");
            exit(1);
        }
        memset(blocks[i], 0x5a, BLOCK_SIZE);
    }
    pthread_barrier_wait(&done_barrier);

    pthread_mutex_lock(&hold_lock);
    while (!quitting)
        pthread_cond_wait(&hold_cond, &hold_lock);
    pthread_mutex_unlock(&hold_lock);

    for (int i = 0; i < BLOCKS_PER_THREAD; i++)
        free(blocks[i]);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s N\n", argv[0]);
        return 2;
    }
    int n = atoi(argv[1]);
    if (n < 0 || n > 10000) {
        fprintf(stderr, "bad N: %s\n", argv[1]);
        return 2;
    }

    /* Main arena in use by the main thread before any worker starts. */
    void *mainblock = malloc(BLOCK_SIZE);
    memset(mainblock, 0x11, BLOCK_SIZE);

    pthread_t *tids = calloc(n > 0 ? n : 1, sizeof *tids);
    pthread_barrier_init(&start_barrier, NULL, n > 0 ? n : 1);
    pthread_barrier_init(&done_barrier, NULL, n + 1);
    for (int i = 0; i < n; i++) {
        int rc = pthread_create(&tids[i], NULL, worker, NULL);
        if (rc != 0) {
            fprintf(stderr, "pthread_create: %s\n", strerror(rc));
            return 1;
        }
    }
    pthread_barrier_wait(&done_barrier);

    printf("READY %d\n", (int)getpid());
    fflush(stdout);

    char line[256];
    while (fgets(line, sizeof line, stdin) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        if (strcmp(line, "stats") == 0) {
            malloc_stats();
            fflush(stderr);
            printf("STATS-DONE\n");
            fflush(stdout);
        } else if (strcmp(line, "quit") == 0) {
            break;
        }
    }

    pthread_mutex_lock(&hold_lock);
    quitting = 1;
    pthread_cond_broadcast(&hold_cond);
    pthread_mutex_unlock(&hold_lock);
    for (int i = 0; i < n; i++)
        pthread_join(tids[i], NULL);
    free(mainblock);
    free(tids);
    return 0;
}
