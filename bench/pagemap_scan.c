// Thread CPU time of counting the resident pages of the same address ranges two ways: pread of /proc/PID/pagemap in
// 1 MiB blocks (what PagemapReader does on kernels before 6.7) and the PAGEMAP_SCAN ioctl (Linux 6.7+, what it does
// now), present and not the zero page, asked for 2 MiB windows as PagemapReader asks (one call for a whole range would
// hold the target's mmap lock over all of it).
// Usage: pagemap_scan PID RANGES-FILE ROUNDS   (RANGES-FILE: "start end" in hex per line, from `bench ... resident`)
// Prints the median of each and the pages each counted (they must agree).
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

// include/uapi/linux/fs.h (6.7+); Debian 12's headers are older.
struct page_region { uint64_t start, end, categories; };
struct pm_scan_arg {
    uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
    uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};
#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)
#define PAGE_IS_FILE (1 << 2)
#define PAGE_IS_PRESENT (1 << 3)
#define PAGE_IS_PFNZERO (1 << 5)

#define MAX_RANGES 100000
static uint64_t starts[MAX_RANGES], ends[MAX_RANGES];
static int ranges;
static uint64_t block[128 * 1024];

static double thread_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static long by_pread(int fd) {
    long pages = 0;
    for (int r = 0; r < ranges; r++) {
        for (uint64_t page = starts[r] / 4096; page < ends[r] / 4096;) {
            uint64_t n = ends[r] / 4096 - page;
            if (n > sizeof block / 8) n = sizeof block / 8;
            ssize_t got = pread(fd, block, n * 8, page * 8);
            if (got <= 0) break;
            for (ssize_t i = 0; i < got / 8; i++) {
                uint64_t e = block[i];
                // The flag rule without the anonymous/file distinction: present and (file or exclusive).
                pages += (e >> 63) && ((e >> 61 & 1) || (e >> 56 & 1));
            }
            page += got / 8;
        }
    }
    return pages;
}

static long by_scan(int fd) {
    static struct page_region vec[512];
    long pages = 0;
    for (int r = 0; r < ranges; r++) {
        uint64_t start = starts[r];
        while (start < ends[r]) {
            uint64_t window_end = (start + (2 << 20)) & ~(uint64_t)((2 << 20) - 1);
            if (window_end > ends[r]) window_end = ends[r];
            struct pm_scan_arg arg = {
                .size = sizeof arg, .start = start, .end = window_end, .vec = (uintptr_t)vec, .vec_len = 512,
                .category_inverted = PAGE_IS_PFNZERO, .category_mask = PAGE_IS_PRESENT | PAGE_IS_PFNZERO,
                .return_mask = PAGE_IS_PRESENT,
            };
            long n = ioctl(fd, PAGEMAP_SCAN, &arg);
            if (n < 0) { perror("PAGEMAP_SCAN"); exit(1); }
            for (long i = 0; i < n; i++) pages += (vec[i].end - vec[i].start) / 4096;
            start = arg.walk_end > start ? arg.walk_end : window_end;
        }
    }
    return pages;
}

static int cmp(const void *a, const void *b) { double x = *(double *)a, y = *(double *)b; return (x > y) - (x < y); }

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: %s PID RANGES ROUNDS\n", argv[0]); return 2; }
    char path[64];
    snprintf(path, sizeof path, "/proc/%s/pagemap", argv[1]);
    int fd = open(path, O_RDONLY);
    FILE *f = fopen(argv[2], "r");
    if (fd < 0 || !f) { perror("open"); return 1; }
    while (ranges < MAX_RANGES && fscanf(f, "%lx %lx", &starts[ranges], &ends[ranges]) == 2) ranges++;
    int rounds = atoi(argv[3]);
    double pr[rounds], sc[rounds];
    long pages_read = 0, pages_scan = 0;
    for (int i = 0; i < rounds; i++) {
        double t0 = thread_ms(); pages_read = by_pread(fd); double t1 = thread_ms(); pages_scan = by_scan(fd); double t2 = thread_ms();
        pr[i] = t1 - t0; sc[i] = t2 - t1;
    }
    qsort(pr, rounds, sizeof *pr, cmp);
    qsort(sc, rounds, sizeof *sc, cmp);
    printf("ranges %d\npread_ms %.3f\npagemap_scan_ms %.3f\npread_pages %ld\nscan_pages %ld\n", ranges, pr[rounds / 2], sc[rounds / 2], pages_read, pages_scan);
    return 0;
}
