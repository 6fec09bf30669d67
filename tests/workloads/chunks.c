// Test workload for MallocChunkDetector's chunks merged behind another mapping: glibc mmaps a few 256 KiB
// malloc chunks (they merge into one VMA), then an anonymous rw reservation is mapped directly below them, so the
// chunks sit behind it in one VMA, as behind a HotSpot reservation. Below that, leftover anonymous rw VMAs with
// nothing behind them (sizes in MiB from the arguments), each with a one-chunk PROT_NONE placeholder above it
// and a guard page above that.
// Prints the layout, READY, then obeys commands on stdin:
//   free I      frees chunk I (0 = the first malloc'd, the highest): glibc unmaps it, the VMA's bounds change
//   behind I    unmaps leftover I's placeholder and mallocs a chunk: it lands there, behind leftover I
//   trim I      unmaps the lower half of leftover I
// Each command answers "OK ..." or "FAILED ...".
//
// Usage: chunks [LEFTOVER_MIB...]
// Build: gcc -O2 -o chunks chunks.c
#define _GNU_SOURCE
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define CHUNKS 4
#define REQUEST (256 * 1024)
#define RESERVATION (1024 * 1024)
#define MAX_LEFTOVERS 8

static size_t page;
static size_t chunk_span;   // what one REQUEST takes: header and padding to a page
static char *chunks[CHUNKS];
static char *leftovers[MAX_LEFTOVERS];
static size_t leftover_sizes[MAX_LEFTOVERS];

static char *map_at(char *at, size_t size, int prot) {
    char *p = mmap(at, size, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p == MAP_FAILED || p != at) { fprintf(stderr, "mmap at %p: %m\n", (void *)at); exit(1); }
    return p;
}

int main(int argc, char **argv) {
    page = (size_t)sysconf(_SC_PAGESIZE);
    chunk_span = (REQUEST + 16 + page - 1) / page * page;
    // A fixed threshold: freeing an mmapped chunk must not raise it (then the next one would come from the heap).
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    // A guard page first, at the top of the free space (where a 1 MiB mapping goes: smaller holes lie above), so
    // that the chunks, mapped right below it, do not merge with an anonymous rw mapping above (libc's, ld.so's).
    char *space = mmap(NULL, 1 << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(space, (1 << 20) - page);
    for (int i = 0; i < CHUNKS; i++) {
        chunks[i] = malloc(REQUEST);
        memset(chunks[i], 0x5a, REQUEST);
    }
    // The lowest chunk's mapping starts 16 bytes (its header) before the pointer.
    char *low = chunks[0] - 16;
    for (int i = 1; i < CHUNKS; i++) {
        if (chunks[i] - 16 < low) low = chunks[i] - 16;
    }
    char *reservation = map_at(low - RESERVATION, RESERVATION, PROT_READ | PROT_WRITE);
    memset(reservation, 0, page);
    printf("CHUNKS %lx-%lx\n", (unsigned long)reservation, (unsigned long)(low + CHUNKS * chunk_span));
    char *below = reservation;
    int count = 0;
    for (int a = 1; a < argc && count < MAX_LEFTOVERS; a++, count++) {
        size_t size = (size_t)atol(argv[a]) * 1024 * 1024;
        // leftover | placeholder for one chunk | guard page | (what is above)
        char *guard = map_at(below - page, page, PROT_NONE);
        char *placeholder = map_at(guard - chunk_span, chunk_span, PROT_NONE);
        leftovers[count] = map_at(placeholder - size, size, PROT_READ | PROT_WRITE);
        leftover_sizes[count] = size;
        memset(leftovers[count], 1, page);
        below = leftovers[count];
        printf("LEFTOVER %d %lx-%lx\n", count, (unsigned long)leftovers[count], (unsigned long)(leftovers[count] + size));
    }

    printf("READY\n");
    fflush(stdout);
    char cmd[64];
    int i;
    while (fgets(cmd, sizeof cmd, stdin)) {
        if (sscanf(cmd, "free %d", &i) == 1 && i >= 0 && i < CHUNKS && chunks[i]) {
            free(chunks[i]);
            chunks[i] = NULL;
            printf("OK\n");
        } else if (sscanf(cmd, "behind %d", &i) == 1 && i >= 0 && i < count) {
            char *hole = leftovers[i] + leftover_sizes[i];
            munmap(hole, chunk_span);
            char *p = malloc(REQUEST);
            memset(p, 0x33, REQUEST);
            if (p - 16 == hole) printf("OK %lx\n", (unsigned long)(p - 16));
            else printf("FAILED chunk at %lx, not %lx\n", (unsigned long)(p - 16), (unsigned long)hole);
        } else if (sscanf(cmd, "trim %d", &i) == 1 && i >= 0 && i < count) {
            munmap(leftovers[i], leftover_sizes[i] / 2);
            leftovers[i] += leftover_sizes[i] / 2;
            leftover_sizes[i] /= 2;
            printf("OK\n");
        } else {
            printf("FAILED unknown command\n");
        }
        fflush(stdout);
    }
    return 0;
}
