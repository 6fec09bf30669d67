/*
 * A native program for the allocator tests: built against each malloc (glibc, jemalloc, tcmalloc, mimalloc, musl;
 * linked, static or preloaded as the test chooses), it mallocs and frees a fixed mix of sizes from the main thread
 * and two more (so a per-thread cache or arena exists beside the main one), keeps about 70 MB live, prints
 * "READY", and blocks reading stdin: it exits at end of input. Nothing in it names the allocator.
 *
 *   allocators [BLOCKS]   (default 20000)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static size_t blocks = 20000;

static void *churn(void *arg)
{
    size_t n = blocks, salt = (size_t)arg;
    void **kept = malloc(n * sizeof(void *));
    for (size_t i = 0; i < n; i++) {
        /* Small sizes for slabs and bins, every 100th large (a page run or an mmap of its own). */
        size_t size = 16 + ((i * 37 + salt) % 4000);
        if (i % 100 == 0) {
            size = 100000 + i;
        }
        kept[i] = malloc(size);
        memset(kept[i], 1, size);
    }
    for (size_t i = 0; i < n; i += 3) {
        free(kept[i]);
    }
    return kept;
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        blocks = (size_t)atol(argv[1]);
    }
    pthread_t threads[2];
    for (int t = 0; t < 2; t++) {
        pthread_create(&threads[t], NULL, churn, (void *)(size_t)(t + 1));
        pthread_join(threads[t], NULL);
    }
    churn(0);
    printf("READY\n");
    fflush(stdout);
    char line[64];
    while (fgets(line, sizeof line, stdin) != NULL) {
    }
    return 0;
}
