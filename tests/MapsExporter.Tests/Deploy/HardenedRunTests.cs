using System.Diagnostics;
using MapsExporter.Tests.Daemon;
using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Deploy;

/// <summary>
/// The hardened unit still reads a root-owned JVM: the AOT binary runs as an unprivileged uid from systemd's
/// DynamicUser range with exactly the unit's capabilities as ambient ones (setpriv), no_new_privs, and
/// MemoryDenyWriteExecute's rule (no memory may become executable once written, PR_SET_MDWE, which is what the
/// unit's seccomp filter enforces). Without the capabilities the same JVM is a counted permission error.
/// </summary>
[Collection(DeployCollection.Name)]
public sealed class HardenedRunTests(DeployFixture fixture)
{
    /// <summary>The first uid systemd hands out for DynamicUser=yes.</summary>
    private const string DynamicUid = "61184";

    [Fact]
    public async Task The_units_user_and_capabilities_read_a_root_jvm_exactly_and_without_them_it_is_a_permission_error()
    {
        Assert.Equal("yes", SystemdUnit.One("DynamicUser"));
        Assert.Equal("yes", SystemdUnit.One("NoNewPrivileges"));
        Assert.Equal("yes", SystemdUnit.One("MemoryDenyWriteExecute"));
        Assert.Contains("Uid:\t0\t", File.ReadAllText($"/proc/{fixture.Pid}/status"), StringComparison.Ordinal);
        string caps = string.Join(',', SystemdUnit.Capabilities().Select(c => "+" + c));
        string mdwe = MdweLauncher();

        // The launcher really forbids write-then-execute memory: a JIT (HotSpot) cannot start under it.
        var (javaCode, _, javaErr) = ToolRunner.Run(mdwe, [Path.Combine(RepoPaths.Jdk17, "bin", "java"), "-version"]);
        Assert.True(javaCode != 0, $"java started under PR_SET_MDWE, so the launcher does not enforce it: {javaErr}");

        int hardenedPort = Ports.Free();
        int bareport = Ports.Free();
        Process hardened = AotBinary.Start(hardenedPort, [mdwe, .. Setpriv($"-all,{caps}")]);
        Process bare = AotBinary.Start(bareport, [mdwe, .. Setpriv("-all")]);
        using var hardenedHttp = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{hardenedPort}") };
        using var bareHttp = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{bareport}") };
        try
        {
            MetricsScrape scrape = await AotBinary.WaitForAsync(hardenedHttp, hardened, s => s.Pids("mapsexporter_process_info").Contains(fixture.Pid), "the root JVM's series from the hardened exporter");
            // The exact methods worked: hsperfdata (CAP_DAC_READ_SEARCH through /proc/PID/root), arena headers from /proc/PID/mem.
            Assert.Equal(256.0 * 1024 * 1024, scrape.Value("mapsexporter_java_heap_max_bytes", $"pid={fixture.Pid}"));
            Assert.Single(scrape.Find("mapsexporter_libc_arena_largest_resident_bytes", $"pid={fixture.Pid}"));
            Assert.Contains(fixture.Pid, scrape.Pids("mapsexporter_region_resident_bytes"));
            Assert.Equal(0, scrape.Value("mapsexporter_classification_fallbacks_total", "method=hsperfdata"));
            Assert.Contains($"Uid:\t{DynamicUid}\t", ProcessStatus(hardened), StringComparison.Ordinal);

            MetricsScrape denied = await AotBinary.WaitForAsync(bareHttp, bare, s => s.Family("mapsexporter_scan_errors_total").Any(x => x.Label("reason") == "permission" && x.Value > 0), "permission errors counted without the capabilities");
            Assert.DoesNotContain(fixture.Pid, denied.AllPids());
            Assert.Equal(1, denied.Value("mapsexporter_last_scan_success"));
        }
        finally
        {
            AotBinary.Stop(hardened);
            AotBinary.Stop(bare);
        }
    }

    /// <summary>setpriv arguments: the DynamicUser uid, no groups, these ambient, inheritable and bounding capabilities, no_new_privs.</summary>
    private static string[] Setpriv(string caps) =>
    [
        "setpriv", $"--reuid={DynamicUid}", $"--regid={DynamicUid}", "--clear-groups",
        $"--inh-caps={caps}", $"--ambient-caps={caps}", $"--bounding-set={caps}", "--no-new-privs",
    ];

    private static string ProcessStatus(Process launcher)
    {
        // setpriv and the launcher exec, so the exporter has the launcher's PID.
        return File.ReadAllText($"/proc/{launcher.Id}/status");
    }

    /// <summary>A tiny C launcher that sets PR_SET_MDWE (refuse exec gain, inherited across exec) and execs its arguments.</summary>
    private static string MdweLauncher()
    {
        string dir = Directory.CreateTempSubdirectory("mapsexporter-mdwe-").FullName;
        string source = Path.Combine(dir, "mdwe.c");
        File.WriteAllText(source, """
            #include <stdio.h>
            #include <sys/prctl.h>
            #include <unistd.h>
            int main(int argc, char **argv) {
                if (argc < 2) { fprintf(stderr, "usage: mdwe-exec COMMAND [ARG]...\n"); return 2; }
                /* PR_SET_MDWE (Linux 6.3), PR_MDWE_REFUSE_EXEC_GAIN: what MemoryDenyWriteExecute=yes enforces */
                if (prctl(65, 1, 0L, 0L, 0L) != 0) { perror("prctl(PR_SET_MDWE)"); return 3; }
                execvp(argv[1], argv + 1);
                perror("execvp");
                return 4;
            }
            """);
        string binary = Path.Combine(dir, "mdwe-exec");
        var (code, stdout, stderr) = ToolRunner.Run("gcc", ["-O2", "-o", binary, source]);
        Assert.True(code == 0, $"gcc: {stdout}{stderr}");
        var (probe, _, probeErr) = ToolRunner.Run(binary, ["true"]);
        Assert.True(probe == 0, $"PR_SET_MDWE is not available (Linux 6.3 or later is needed): {probeErr}");
        return binary;
    }
}
