// Test workload for MapsExporter's resource bounds: maps N separate pages with alternating permissions (so the
// kernel cannot merge them into fewer VMAs), names itself and a thread with control characters, prints READY and
// sleeps until killed.
//
// Usage: mappings N
// Build: gcc -O2 -pthread -o mappings mappings.c
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

static void *sleeper(void *arg) {
    (void)arg;
    // A thread name with an escape sequence, a newline, a quote and a backslash (15 bytes at most).
    prctl(PR_SET_NAME, "t\x1b[2J\n\"\\x\x7f", 0, 0, 0);
    for (;;) pause();
    return NULL;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000;
    long page = sysconf(_SC_PAGESIZE);
    // One reservation, then every other page made writable: N VMAs that cannot merge.
    char *base = mmap(NULL, (size_t)(2 * n + 2) * page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) { perror("mmap"); return 1; }
    for (long i = 0; i < n; i++) {
        if (mprotect(base + (2 * i + 1) * page, page, PROT_READ | PROT_WRITE) != 0) { perror("mprotect"); return 1; }
        base[(2 * i + 1) * page] = 1;
    }
    prctl(PR_SET_NAME, "mapsbomb\x1b\"\\", 0, 0, 0);
    pthread_t t;
    pthread_create(&t, NULL, sleeper, NULL);
    printf("READY\n");
    fflush(stdout);
    for (;;) pause();
}
