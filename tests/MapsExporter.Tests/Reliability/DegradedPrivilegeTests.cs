using System.Globalization;
using MapsExporter.Core.Proc;
using MapsExporter.Tests.Daemon;
using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Reliability;

/// <summary>
/// Least privilege: the daemon as an unprivileged user holding only CAP_SYS_PTRACE still reports a root JVM from
/// its smaps, while the exact methods, whose files are owner-only (mem, task/TID/syscall, hsperfdata), fall back to
/// layout rules and are counted. A root daemon scanning the same JVM at the same time is the control: no fallbacks.
/// </summary>
public sealed class DegradedPrivilegeTests
{
    /// <summary>A main class no other test uses, so <c>--selection.include-app</c> selects this JVM alone and the global fallback counters are its own.</summary>
    private const string MainClass = "DegradedPrivilegeProbe";

    private const double HeapBytes = 64.0 * 1024 * 1024;

    /// <summary>nobody with CAP_SYS_PTRACE as its one capability (ambient, so it survives the exec of dotnet), nothing else in reach.</summary>
    private static readonly string[] PtraceOnly =
    [
        "--reuid=65534", "--regid=65534", "--clear-groups",
        "--inh-caps=-all,+sys_ptrace", "--ambient-caps=-all,+sys_ptrace", "--bounding-set=-all,+sys_ptrace", "--no-new-privs", "--",
    ];

    [Fact]
    public async Task With_only_CAP_SYS_PTRACE_a_root_jvm_is_reported_from_smaps_and_the_exact_methods_fall_back_countably()
    {
        using ProbeJvm jvm = ProbeJvm.Start(MainClass, ["-Xmx64m", "-XX:+UseG1GC"]);
        string pid = jvm.Pid.ToString(CultureInfo.InvariantCulture);
        Assert.Contains("Uid:\t0\t", File.ReadAllText($"/proc/{pid}/status"), StringComparison.Ordinal);
        string tid = Directory.EnumerateDirectories($"/proc/{pid}/task").Select(Path.GetFileName).First(t => t != pid)!;
        string hsperfdata = $"/proc/{pid}/root/tmp/hsperfdata_root/{pid}";
        Assert.True(File.Exists(hsperfdata), $"the JVM maps no {hsperfdata}");

        // What the kernel grants CAP_SYS_PTRACE alone (checked with cat under the same setpriv): maps and smaps (0444,
        // ptrace-read), not the owner-only files the exact methods read, whose mode CAP_SYS_PTRACE does not override.
        foreach (string readable in new[] { "maps", "smaps", "stat", "cmdline", $"task/{tid}/comm" })
        {
            var (code, _, err) = ToolRunner.Run("setpriv", [.. PtraceOnly, "cat", $"/proc/{pid}/{readable}"]);
            Assert.True(code == 0, $"CAP_SYS_PTRACE cannot read /proc/{pid}/{readable}: {err}");
        }

        foreach (string refused in new[] { $"/proc/{pid}/mem", $"/proc/{pid}/task/{tid}/syscall", hsperfdata })
        {
            var (code, _, err) = ToolRunner.Run("setpriv", [.. PtraceOnly, "head", "-c", "1", refused]);
            Assert.True(code != 0 && err.Contains("Permission denied", StringComparison.Ordinal), $"CAP_SYS_PTRACE alone opened {refused} (the test proves nothing here): {err}");
        }

        // smaps every scan (not the default once a minute): each scan below is a smaps read under CAP_SYS_PTRACE.
        string[] flags = ["--scan.interval=200ms", "--scan.smaps-interval=0s", $"--selection.include-app={MainClass}"];
        using Exporter degraded = await Exporter.StartAsync(flags, new Dictionary<string, string> { ["HOME"] = "/nonexistent", ["DOTNET_CLI_HOME"] = "/tmp" }, "setpriv", PtraceOnly);
        using Exporter root = await Exporter.StartAsync(flags);
        // setpriv execs dotnet: the daemon has the launcher's PID. Its only capability is CAP_SYS_PTRACE (bit 19).
        string status = File.ReadAllText($"/proc/{degraded.Pid}/status");
        Assert.Contains("Uid:\t65534\t", status, StringComparison.Ordinal);
        Assert.Contains("CapEff:\t0000000000080000", status, StringComparison.Ordinal);

        MetricsScrape full = await root.WaitForAsync(s => s.Pids("mapsexporter_process_resident_bytes").Contains(pid), $"JVM {pid} reported by the root daemon");
        MetricsScrape seen = await degraded.WaitForAsync(s => s.Pids("mapsexporter_process_resident_bytes").Contains(pid), $"JVM {pid} reported by the CAP_SYS_PTRACE daemon");
        await Task.Delay(2000); // ten more scans each
        seen = await degraded.ScrapeAsync();
        full = await root.ScrapeAsync();

        // Reported, from smaps: resident sizes per category and for the whole process, as the root daemon sees them.
        Assert.Equal(MainClass, seen.Find("mapsexporter_process_info", $"pid={pid}").Single().Label("app"));
        Assert.Equal(1, seen.Value("mapsexporter_process_scan_mode", $"pid={pid}", "mode=smaps"));
        Assert.True(seen.Value("mapsexporter_region_resident_bytes", $"pid={pid}", "category=java_heap") > 0, seen.Text);
        Assert.True(seen.Value("mapsexporter_region_resident_bytes", $"pid={pid}", "category=shared_library") > 0, seen.Text);
        double rss = seen.Value("mapsexporter_process_resident_bytes", $"pid={pid}");
        double rootRss = full.Value("mapsexporter_process_resident_bytes", $"pid={pid}");
        Assert.True(rss > 0.8 * rootRss && rss < 1.25 * rootRss, $"Rss {rss} without, {rootRss} with full privileges");
        // The layout rules still find the heap reservation (-Xmx64m), without the JVM's own figure.
        Assert.Equal(HeapBytes, seen.Value("mapsexporter_region_virtual_bytes", $"pid={pid}", "category=java_heap"));
        Assert.Equal(HeapBytes, full.Value("mapsexporter_region_virtual_bytes", $"pid={pid}", "category=java_heap"));

        // Degraded, and visibly so: what needs hsperfdata or the process's memory is absent (no fake values) ...
        Assert.Equal(HeapBytes, full.Value("mapsexporter_java_heap_max_bytes", $"pid={pid}"));
        Assert.Empty(seen.Find("mapsexporter_java_heap_max_bytes", $"pid={pid}"));
        Assert.Single(full.Find("mapsexporter_libc_arena_largest_resident_bytes", $"pid={pid}"));
        Assert.Empty(seen.Find("mapsexporter_libc_arena_largest_resident_bytes", $"pid={pid}"));
        // ... and every read of the JVM (the only process selected) counts a fallback of each exact method; the
        // root daemon, reading the same JVM, needs none of those that depend on privileges (stack_pointer also
        // counts threads caught running, so it is not compared there).
        double reads = seen.Value("mapsexporter_classification_fallbacks_total", "method=hsperfdata");
        Assert.True(reads >= 10, $"{reads} fallbacks counted over 2 s of 200 ms scans: {seen.Text}");
        foreach (string method in new[] { "heap_info", "chunk_header", "stack_pointer" })
        {
            Assert.Equal(reads, seen.Value("mapsexporter_classification_fallbacks_total", $"method={method}"));
        }

        foreach (string method in new[] { "heap_info", "chunk_header", "hsperfdata" })
        {
            Assert.Equal(0, full.Value("mapsexporter_classification_fallbacks_total", $"method={method}"));
        }

        // Said once for all those scans, with what is missing; the root daemon has nothing to say.
        string[] said = degraded.Output.Split('\n').Where(l => l.Contains("without exact methods", StringComparison.Ordinal)).ToArray();
        Assert.True(said.Length == 1, degraded.Output);
        Assert.Contains("level=warn", said[0], StringComparison.Ordinal);
        Assert.Contains("also needs CAP_DAC_READ_SEARCH", said[0], StringComparison.Ordinal);
        Assert.DoesNotContain("without exact methods", root.Output, StringComparison.Ordinal);

        Assert.Equal(1, seen.Value("mapsexporter_last_scan_success"));
        Assert.False(degraded.Daemon.Process.HasExited);
        degraded.AssertNoExceptions();
        root.AssertNoExceptions();
    }

    [Fact]
    public void The_reason_for_a_refused_owner_only_file_names_the_missing_capability()
    {
        // The wording ProcessMemoryReader and HsPerfDataLocator give for EACCES, by the daemon's effective capabilities.
        const ulong ptrace = 1UL << 19, dacReadSearch = 1UL << 2;
        Assert.Contains("also needs CAP_DAC_READ_SEARCH", PtraceGuardedFile.Missing(ptrace), StringComparison.Ordinal);
        Assert.Contains("needs CAP_SYS_PTRACE besides CAP_DAC_READ_SEARCH", PtraceGuardedFile.Missing(dacReadSearch), StringComparison.Ordinal);
        Assert.Contains("needs CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH", PtraceGuardedFile.Missing(0), StringComparison.Ordinal);
        Assert.Contains("needs CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH", PtraceGuardedFile.Missing(null), StringComparison.Ordinal);
        Assert.Contains("security module", PtraceGuardedFile.Missing(ptrace | dacReadSearch), StringComparison.Ordinal);
    }
}
