using System.Diagnostics;
using MapsExporter.Daemon;

namespace MapsExporter.Tests.Daemon;

/// <summary>
/// The daemon pins glibc's mmap threshold so a large block freed (zlib's deflate state, every scan) is unmapped, not
/// kept in a thread's arena. Read from the running daemon's own malloc state with gdb (libc6-dbg's symbols):
/// glibc sets <c>mp_.no_dyn_threshold</c> only when a program fixes the threshold.
/// </summary>
public sealed class MallocTuningTests
{
    [Fact]
    public async Task The_running_daemon_has_glibcs_mmap_threshold_pinned()
    {
        using DaemonProcess daemon = DaemonProcess.Start(["--web.listen-address=127.0.0.1:0", "--scan.interval=200ms", "--log.level=debug"]);
        await Poll.UntilAsync(
            () => Task.FromResult(daemon.Stderr),
            text => text.Split('\n').Count(l => l.Contains("took", StringComparison.Ordinal)) >= 3,
            TimeSpan.FromSeconds(30),
            "three scans logged at debug");

        string state = MallocParameters(daemon.Process.Id);
        Assert.Contains("no_dyn_threshold = 1", state, StringComparison.Ordinal);
        Assert.Contains($"mmap_threshold = {MallocTuning.MmapThresholdBytes}", state, StringComparison.Ordinal);
        Assert.DoesNotContain("did not take mallopt", daemon.Stderr, StringComparison.Ordinal);
    }

    private static string MallocParameters(int pid)
    {
        var start = new ProcessStartInfo("gdb") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in new[] { "-p", pid.ToString(System.Globalization.CultureInfo.InvariantCulture), "-batch", "-ex", "p mp_" })
        {
            start.ArgumentList.Add(arg);
        }

        using Process gdb = Process.Start(start)!;
        Task<string> error = gdb.StandardError.ReadToEndAsync();
        string output = gdb.StandardOutput.ReadToEnd();
        Assert.True(gdb.WaitForExit(60_000), "gdb did not finish in 60 s");
        Assert.True(output.Contains("mmap_threshold", StringComparison.Ordinal), $"gdb could not print glibc's mp_ (libc6-dbg installed?): {output} {error.Result}");
        return output;
    }
}
