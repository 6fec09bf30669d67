import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

/**
 * Test workload for MapsExporter.
 *
 * Usage: java [jvm flags] Workload THREADS [--native-churn] [--direct-buffers=N] [--grow-direct=N] [--heap-churn=MB]
 *
 * Starts THREADS daemon platform threads named "worker-N" that stay blocked (sleeping).
 * With --native-churn, up to 16 of them first compress/decompress real data with
 * java.util.zip.Deflater/Inflater (zlib mallocs in native code from each thread, so
 * glibc creates per-thread arenas) and keep their Deflater/Inflater alive.
 * With --direct-buffers=N, keeps N direct ByteBuffers of 1 MiB (malloc'ed, so each is its own mmap).
 * With --grow-direct=N, after READY keeps one more 1 MiB direct ByteBuffer every 250 ms until N more are kept
 * (malloc_mmap that grows while a test watches).
 * With --heap-churn=MB, allocates MB MiB in 64 KiB arrays, keeping every fourth, with a full collection after
 * each quarter: the collector moves live objects (ZGC touches heap pages through its other views).
 * Allocates some Java heap (about 32 MiB kept live), prints "READY" and blocks forever.
 */
public class Workload {
    static final List<Object> KEEP = new ArrayList<>();

    public static void main(String[] args) throws Exception {
        int threads = 0;
        boolean nativeChurn = false;
        int directBuffers = 0;
        int heapChurnMb = 0;
        int growDirect = 0;
        for (String a : args) {
            if (a.equals("--native-churn")) {
                nativeChurn = true;
            } else if (a.startsWith("--direct-buffers=")) {
                directBuffers = Integer.parseInt(a.substring("--direct-buffers=".length()));
            } else if (a.startsWith("--grow-direct=")) {
                growDirect = Integer.parseInt(a.substring("--grow-direct=".length()));
            } else if (a.startsWith("--heap-churn=")) {
                heapChurnMb = Integer.parseInt(a.substring("--heap-churn=".length()));
            } else {
                threads = Integer.parseInt(a);
            }
        }

        // Some live Java heap: 32 x 1 MiB arrays, touched.
        for (int i = 0; i < 32; i++) {
            byte[] b = new byte[1 << 20];
            for (int j = 0; j < b.length; j += 4096) {
                b[j] = (byte) j;
            }
            KEEP.add(b);
        }

        // Direct ByteBuffers of 1 MiB: glibc serves each with an mmap of its own (NMT's "Other").
        for (int i = 0; i < directBuffers; i++) {
            java.nio.ByteBuffer buffer = java.nio.ByteBuffer.allocateDirect(1 << 20);
            for (int j = 0; j < buffer.capacity(); j += 4096) {
                buffer.put(j, (byte) 1);
            }
            KEEP.add(buffer);
        }

        heapChurn(heapChurnMb);

        int churners = nativeChurn ? Math.min(threads, 16) : 0;
        CountDownLatch started = new CountDownLatch(threads);
        for (int i = 0; i < threads; i++) {
            final boolean churn = i < churners;
            Thread t = new Thread(() -> {
                Object keep = churn ? churn() : null;
                started.countDown();
                while (true) {
                    try {
                        Thread.sleep(3_600_000L);
                    } catch (InterruptedException e) {
                        // keep sleeping
                    }
                    if (keep == Workload.class) {
                        break; // never: keeps 'keep' reachable
                    }
                }
            }, "worker-" + i);
            t.setDaemon(true);
            t.start();
        }
        started.await();

        System.out.println("READY");
        System.out.flush();

        for (int i = 0; i < growDirect; i++) {
            Thread.sleep(250);
            java.nio.ByteBuffer buffer = java.nio.ByteBuffer.allocateDirect(1 << 20);
            for (int j = 0; j < buffer.capacity(); j += 4096) {
                buffer.put(j, (byte) 1);
            }
            KEEP.add(buffer);
        }

        Object lock = new Object();
        synchronized (lock) {
            while (true) {
                lock.wait();
            }
        }
    }

    /** Garbage and some survivors, collected four times. */
    static void heapChurn(int megabytes) {
        List<Object> survivors = new ArrayList<>();
        int arrays = megabytes * 16;
        for (int i = 0; i < arrays; i++) {
            byte[] b = new byte[64 << 10];
            for (int j = 0; j < b.length; j += 4096) {
                b[j] = (byte) i;
            }
            if (i % 4 == 0) {
                survivors.add(b);
            }
            if ((i + 1) % Math.max(1, arrays / 4) == 0) {
                System.gc();
            }
        }
        KEEP.add(survivors);
    }

    /** Native allocation in this thread: zlib deflate/inflate of 1 MiB of real data. */
    static Object churn() {
        Random rnd = new Random(Thread.currentThread().getName().hashCode());
        byte[] data = new byte[1 << 20];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) ('a' + (i % 26) + (rnd.nextInt(16) == 0 ? 1 : 0)); // compressible
        }
        List<Object> kept = new ArrayList<>();
        byte[] out = new byte[data.length + 1024];
        byte[] back = new byte[data.length];
        for (int round = 0; round < 4; round++) {
            Deflater d = new Deflater();
            d.setInput(data);
            d.finish();
            int n = d.deflate(out);
            Inflater inf = new Inflater();
            inf.setInput(out, 0, n);
            try {
                inf.inflate(back);
            } catch (java.util.zip.DataFormatException e) {
                throw new IllegalStateException(e);
            }
            kept.add(d); // not ended: zlib state stays malloc'ed in this thread's arena
            kept.add(inf);
        }
        return kept;
    }
}
