using System.Text;
using MapsExporter.Core.Parsing;
using MapsExporter.Core.Proc;

namespace MapsExporter.Tests.Core;

/// <summary>statm's error bound by kernel (per-CPU RSS counters from 6.2, summed exactly from 6.16) and VmSwap from status.</summary>
public sealed class StatmErrorBoundTests
{
    [Theory]
    [InlineData("6.18.44-fc-v1045", 2, 0)]
    [InlineData("6.16.0", 256, 0)]
    // 3 counters x CPUs x max(32, 2 x CPUs) pages of 4 KiB.
    [InlineData("6.15.2-arch1", 2, 3L * 2 * 32 * 4096)]
    [InlineData("6.2.0-generic", 256, 3L * 256 * 512 * 4096)]
    // Before 6.2, each thread cached up to 64 faults per counter: 10 threads here.
    [InlineData("5.15.0-91-generic", 64, 3L * 64 * 10 * 4096)]
    public void The_bound_follows_the_kernel_and_the_cpus(string release, int cpus, long bytes)
    {
        Version kernel = StatmErrorBound.ParseRelease(release)!;
        Assert.Equal(bytes, StatmErrorBound.Bytes(kernel, cpus, threads: 10));
    }

    [Theory]
    [InlineData("")]
    [InlineData("linux")]
    public void A_release_without_a_version_is_unknown(string release) => Assert.Null(StatmErrorBound.ParseRelease(release));

    [Fact]
    public void VmSwap_is_read_in_bytes_and_its_absence_is_unknown()
    {
        Assert.Equal(1234L * 1024, StatusSwapReader.ParseSwapBytes(Encoding.ASCII.GetBytes("Name:\tjava\nVmRSS:\t  10 kB\nVmSwap:\t    1234 kB\nThreads:\t3\n")));
        Assert.Equal(-1, StatusSwapReader.ParseSwapBytes(Encoding.ASCII.GetBytes("Name:\tkthreadd\nThreads:\t1\n")));
        // This process's own status has the line.
        Assert.True(StatusSwapReader.ParseSwapBytes(File.ReadAllBytes("/proc/self/status")) >= 0);
    }
}
