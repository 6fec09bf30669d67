// The stall a target feels: a process that is a JVM (created here through JNI_CreateJavaVM, so the exporter reads it
// as one, with the JVM's options from argv: e.g. -Xms8g -Xmx8g -XX:+AlwaysPreTouch) and times its own 4 KiB
// mmap+munmap in a loop on a native thread. Each takes the mmap lock for writing, so it waits while a reader holds
// it. Prints READY, then "end_ns latency_ns" (CLOCK_MONOTONIC) for every iteration slower than 50 us.
// Build: gcc -O2 -pthread -I$JDK/include -I$JDK/include/linux -o stall stall.c -L$JDK/lib/server -ljvm -Wl,-rpath,$JDK/lib/server
#include <jni.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void *loop(void *arg) {
    (void)arg;
    for (;;) {
        long long t0 = now_ns();
        void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) { perror("mmap"); exit(1); }
        munmap(p, 4096);
        long long t1 = now_ns();
        if (t1 - t0 > 50000) {
            printf("%lld %lld\n", t1, t1 - t0);
            fflush(stdout);
        }
    }
    return NULL;
}

int main(int argc, char **argv) {
    JavaVMOption options[16];
    int n = 0;
    for (int i = 1; i < argc && n < 16; i++) options[n++].optionString = argv[i];
    JavaVMInitArgs init = { .version = JNI_VERSION_10, .nOptions = n, .options = options, .ignoreUnrecognized = JNI_FALSE };
    JavaVM *vm;
    JNIEnv *env;
    if (JNI_CreateJavaVM(&vm, (void **)&env, &init) != JNI_OK) { fprintf(stderr, "JNI_CreateJavaVM failed\n"); return 1; }
    pthread_t thread;
    pthread_create(&thread, NULL, loop, NULL);
    printf("READY\n");
    fflush(stdout);
    pause();
    return 0;
}
