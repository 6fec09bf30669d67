using System.Globalization;
using System.Runtime.InteropServices;
using MapsExporter.Daemon;

namespace MapsExporter.Tests.Daemon;

/// <summary>
/// The daemon pins glibc's mmap threshold so a large block freed (zlib's deflate state, every scan) is unmapped, not
/// kept in a thread's arena. Checked on this test process's own malloc: glibc's dynamic threshold would serve the
/// second and third blocks from an arena after the first one is freed.
/// </summary>
public sealed class MallocTuningTests
{
    [Fact]
    public void Large_blocks_asked_for_again_after_a_free_are_still_mmaps_of_their_own()
    {
        Assert.True(MallocTuning.PinMmapThreshold(), "glibc's mallopt(M_MMAP_THRESHOLD) was not taken");

        const int DeflateStateBytes = 342 * 1024;
        for (int i = 0; i < 3; i++)
        {
            nint block = Marshal.AllocHGlobal(DeflateStateBytes);
            try
            {
                // glibc's mmapped chunk: the mapping starts with its 16-byte header, the block follows.
                ulong mappingStart = (ulong)block - 16;
                Assert.True(MappingStartsAt(mappingStart), $"block {i} at {block:x} is not at the start of a mapping of its own (served from an arena)");
            }
            finally
            {
                Marshal.FreeHGlobal(block);
            }
        }
    }

    private static bool MappingStartsAt(ulong address) => File.ReadLines("/proc/self/maps")
        .Select(line => ulong.Parse(line.AsSpan(0, line.IndexOf('-', StringComparison.Ordinal)), NumberStyles.HexNumber, CultureInfo.InvariantCulture))
        .Contains(address);
}
