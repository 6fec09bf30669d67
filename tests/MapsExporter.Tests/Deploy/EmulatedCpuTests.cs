using MapsExporter.Tests.Daemon;
using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Deploy;

/// <summary>
/// The release binaries on CPUs this machine is not, under Debian's qemu-user-static (user-mode emulation: the
/// binary's instructions are emulated, its system calls run on this kernel, so /proc is this host's):
/// the x86-64 binary on CPU models without AVX (Nehalem: SSSE3 to SSE4.2, so the vector readers run on 16-byte
/// vectors; qemu64: SSE3 at most, so the VmFlags reader, which needs SSSE3, steps aside for the general one while
/// the others still run on SSE2), and the arm64 binary. Every captured
/// fixture's report, text and JSON, must equal the native x86-64 run's byte for byte.
/// </summary>
public sealed class EmulatedCpuTests
{
    /// <summary>Every captured maps and smaps file, in a fixed order.</summary>
    private static string[] Dumps { get; } = Directory.EnumerateFiles(RepoPaths.Fixtures, "*", SearchOption.AllDirectories)
        .Where(path => Path.GetFileName(path) is "maps" or "smaps")
        .Order(StringComparer.Ordinal)
        .ToArray();

    public static TheoryData<string, string> X64CpuModels => new()
    {
        { "Nehalem", "text" }, { "Nehalem", "json" }, { "qemu64", "text" }, { "qemu64", "json" },
    };

    public static TheoryData<string> Formats => new() { "text", "json" };

    [Theory]
    [MemberData(nameof(X64CpuModels))]
    public void X64_binary_on_a_cpu_without_avx_reports_every_fixture_as_the_native_run(string model, string format)
    {
        string binary = AotBinary.Require();
        AssertSameReports(Emulator("qemu-x86_64-static"), ["-cpu", model, binary], binary, format);
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void Arm64_binary_reports_every_fixture_as_the_native_x64_run(string format) =>
        AssertSameReports(Emulator("qemu-aarch64-static"), [Arm64Binary.Require()], AotBinary.Require(), format);

    [Fact]
    public async Task Arm64_binary_as_a_daemon_serves_metrics_for_this_machines_jvm()
    {
        using JavaWorkload jvm = JavaWorkload.Start(RepoPaths.Jdk17, ["-XX:+UseG1GC", "-Xmx128m"], 4);
        int port = Ports.Free();
        // One process: qemu-user runs the binary but cannot exec its arm64 web side (no binfmt_misc here: "Exec format
        // error"); the split is tested on the native binary (PrivilegeSeparationTests).
        var exporter = AotBinary.Launch(
            [Emulator("qemu-aarch64-static"), Arm64Binary.Require(), $"--web.listen-address=127.0.0.1:{port}", "--scan.interval=2s", "--log.level=warn", "--web.privsep=false"]);
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(20) };
            string pid = jvm.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture);
            MetricsScrape scrape = await AotBinary.WaitForAsync(
                http, exporter, s => s.Find("mapsexporter_region_resident_bytes", $"pid={pid}", "category=java_heap").Any(), "the JVM's series from the emulated arm64 daemon", seconds: 120);

            Assert.True(scrape.Value("mapsexporter_region_virtual_bytes", $"pid={pid}", "category=java_heap") >= 128L << 20);
            Assert.True(scrape.Value("mapsexporter_region_resident_bytes", $"pid={pid}", "category=shared_library") > 0);
            Assert.True(scrape.Value("mapsexporter_threads", $"pid={pid}") >= 4);
            Assert.Equal(1, scrape.Value("mapsexporter_last_scan_success"));
            Assert.Contains(scrape.Family("mapsexporter_build_info"), s => s.Label("version") is { Length: > 0 });
            var (code, output) = Promtool.CheckMetrics(scrape.Text);
            Assert.True(code == 0, $"promtool check metrics: {output}");
        }
        finally
        {
            AotBinary.Stop(exporter);
        }
    }

    private static void AssertSameReports(string emulator, string[] emulated, string native, string format)
    {
        Assert.True(Dumps.Length >= 40, $"expected the captured fixtures under {RepoPaths.Fixtures}, found {Dumps.Length} dumps");
        string[] args = ["report", "--format", format, .. Dumps];
        var expected = ToolRunner.Run(native, args);
        Assert.True(expected.ExitCode == 0, $"native report: {expected.Stderr}");

        var actual = ToolRunner.Run(emulator, [.. emulated, .. args], TimeSpan.FromMinutes(5));
        Assert.True(actual.ExitCode == 0, $"{emulator} {string.Join(' ', emulated)} report exited {actual.ExitCode}: {actual.Stderr}");
        Assert.True(expected.Stdout.Length > 100_000, "the native report is unexpectedly short");
        int differsAt = expected.Stdout.Zip(actual.Stdout).TakeWhile(pair => pair.First == pair.Second).Count();
        Assert.True(
            expected.Stdout == actual.Stdout,
            $"the emulated report ({string.Join(' ', emulated)}) differs from the native one at character {differsAt} of {expected.Stdout.Length}: "
            + $"native ...{Excerpt(expected.Stdout, differsAt)}... emulated ...{Excerpt(actual.Stdout, differsAt)}...");
    }

    private static string Excerpt(string text, int at) => text.Substring(Math.Max(0, at - 80), Math.Min(160, text.Length - Math.Max(0, at - 80)));

    /// <summary>Debian's qemu-user-static (scripts/test.sh installs it).</summary>
    private static string Emulator(string name)
    {
        string path = Path.Combine("/usr/bin", name);
        Assert.True(File.Exists(path), $"{path} is missing: apt-get install qemu-user-static (scripts/test.sh does)");
        return path;
    }
}

/// <summary>The linux-arm64 release binary, artifacts/linux-arm64/mapsexporter, cross-compiled by deploy/publish.sh.</summary>
public static class Arm64Binary
{
    public static string Path => System.IO.Path.Combine(RepoPaths.Root, "artifacts", "linux-arm64", "mapsexporter");

    public static string Require()
    {
        Assert.True(File.Exists(Path), $"the linux-arm64 binary {Path} is missing: run `bash deploy/publish.sh` (scripts/test.sh runs it before the tests)");
        return Path;
    }
}
