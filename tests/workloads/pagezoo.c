// One mapping of each kind pagemap and smaps may count differently, for PagemapReaderTests:
// anonymous written; anonymous only read (the shared zero page); THP-madvised anonymous only read (the huge zero
// page) and written (a huge page); MAP_SHARED|MAP_ANONYMOUS (shmem) written; a file mapped private and read, and
// written (COW copies over page cache); a memfd mapped twice, shared. Prints READY, then waits for stdin to close.
// With --fork first, a child forked before READY holds every private page COW-shared (not exclusive in pagemap)
// and waits for stdin to close as well.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#define MIB (1024UL * 1024)

static volatile unsigned long sink;

static void touch(char *p, size_t n, int write) {
    for (size_t i = 0; i < n; i += 4096) {
        if (write) p[i] = 1; else sink += p[i];
    }
}

static char *anon(size_t n, int flags) {
    char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, flags, -1, 0);
    if (p == MAP_FAILED) { perror("mmap"); exit(1); }
    return p;
}

// A 2 MiB-aligned anonymous range with THP asked for (THP is "madvise" or "always" here).
static char *huge(size_t n) {
    char *p = anon(n + 2 * MIB, MAP_PRIVATE | MAP_ANONYMOUS);
    char *aligned = (char *)(((uintptr_t)p + 2 * MIB - 1) & ~(2 * MIB - 1));
    madvise(aligned, n, MADV_HUGEPAGE);
    return aligned;
}

int main(int argc, char **argv) {
    int share = argc > 1 && strcmp(argv[1], "--fork") == 0;
    const char *file = argc > 1 + share ? argv[1 + share] : "/usr/lib/x86_64-linux-gnu/libc.so.6";
    touch(anon(4 * MIB, MAP_PRIVATE | MAP_ANONYMOUS), 4 * MIB, 1);
    touch(anon(8 * MIB, MAP_PRIVATE | MAP_ANONYMOUS), 8 * MIB, 0);
    touch(huge(8 * MIB), 8 * MIB, 0);
    touch(huge(8 * MIB), 8 * MIB, 1);
    touch(anon(2 * MIB, MAP_SHARED | MAP_ANONYMOUS), 2 * MIB, 1);

    int fd = open(file, O_RDONLY);
    if (fd < 0) { perror(file); return 1; }
    off_t size = lseek(fd, 0, SEEK_END) & ~4095L;
    char *read_only = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    char *cow = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (read_only == MAP_FAILED || cow == MAP_FAILED) { perror("mmap file"); return 1; }
    touch(read_only, size, 0);
    touch(cow, size / 2, 0);
    touch(cow, size / 4, 1);

    int memfd = memfd_create("pagezoo", 0);
    if (memfd < 0 || ftruncate(memfd, 4 * MIB) != 0) { perror("memfd"); return 1; }
    char *view1 = mmap(NULL, 4 * MIB, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
    char *view2 = mmap(NULL, 4 * MIB, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
    if (view1 == MAP_FAILED || view2 == MAP_FAILED) { perror("mmap memfd"); return 1; }
    touch(view1, 4 * MIB, 1);
    touch(view2, 2 * MIB, 0);

    if (share) {
        pid_t child = fork();
        if (child < 0) { perror("fork"); return 1; }
        if (child == 0) prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (child == 0 && getppid() == 1) return 0;
        if (child == 0) {
            char wait_buf[16];
            while (read(0, wait_buf, sizeof wait_buf) > 0) {
            }
            return 0;
        }
    }

    printf("READY\n");
    fflush(stdout);
    char buf[16];
    while (read(0, buf, sizeof buf) > 0) {
    }
    return 0;
}
