using System.Runtime.InteropServices;

namespace MapsExporter.Daemon;

/// <summary>
/// Pins glibc's mmap threshold at its default, 128 KiB. glibc otherwise raises it to the largest mmap'd block freed
/// (zlib's 342 KiB deflate state, made for the /metrics gzip copy every scan); such blocks then come from the
/// arena of whichever thread-pool thread asks, and each arena keeps up to twice that freed at its top. Measured on
/// the idle daemon (20 JVMs, 15 s): RSS crept about 1 MB a minute, arenas at 1.7-2.1 MB with 10-40 KB in use
/// (malloc_stats); pinned, flat. A pinned threshold keeps big blocks in mmaps of their own, unmapped on free.
/// </summary>
internal static partial class MallocTuning
{
    /// <summary>glibc's <c>M_MMAP_THRESHOLD</c> (malloc.h); setting it also stops the dynamic trim threshold.</summary>
    private const int MmapThresholdParameter = -3;

    public const int MmapThresholdBytes = 128 * 1024;

    /// <summary>True when the C library took the setting; false on one without <c>mallopt</c> (the setting is an optimisation).</summary>
    public static bool PinMmapThreshold()
    {
        try
        {
            // glibc returns 1 on success; musl's mallopt is a stub that returns 0.
            return MallOpt(MmapThresholdParameter, MmapThresholdBytes) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int MallOpt(int parameter, int value);
}
