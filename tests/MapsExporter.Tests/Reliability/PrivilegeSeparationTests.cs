using System.Globalization;
using MapsExporter.Tests.Daemon;
using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Reliability;

/// <summary>
/// The split daemon as it runs: as root (the quick start), and as the unit runs it (an unprivileged uid of systemd's
/// DynamicUser range with the unit's two capabilities as ambient ones and no_new_privs, through setpriv). The process
/// that owns the listening socket (found through /proc/net/tcp's inode in /proc/PID/fd) holds no capability, and a
/// probe with its uid and no capability is refused a root JVM's maps and mem; the scanner holds the capabilities,
/// has no inet socket and its socket(AF_INET) was refused; killing either side ends the other (nothing is left
/// serving old figures), and SIGTERM stops both within a second.
/// </summary>
public sealed class PrivilegeSeparationTests
{
    private const string DynamicUid = "61184";

    public static TheoryData<string> Runs => ["root", "unit"];

    [Theory]
    [MemberData(nameof(Runs))]
    public async Task The_listening_process_holds_nothing_and_the_scanner_has_no_network(string run)
    {
        using JavaWorkload jvm = JavaWorkload.Start(RepoPaths.Jdk17, ["-Xmx128m"], 2);
        using Exporter exporter = await StartAsync(run);
        await exporter.WaitForAsync(s => s.Pids("mapsexporter_process_info").Contains(jvm.Pid.ToString(CultureInfo.InvariantCulture)), "the root JVM's series through the web side");

        int scanner = ScannerPid(exporter);
        int web = ListenerPid(exporter.Http.BaseAddress!.Port);
        Assert.NotEqual(scanner, web);
        Assert.Equal(scanner, ParentPid(web));

        string status = File.ReadAllText($"/proc/{web}/status");
        Assert.Equal(0UL, Field(status, "CapEff"));
        Assert.Equal(0UL, Field(status, "CapPrm"));
        Assert.Equal(0UL, Field(status, "CapAmb"));
        Assert.Equal(1UL, Field(status, "NoNewPrivs"));
        string uid = run == "root" ? "65534" : DynamicUid;
        Assert.Contains($"Uid:\t{uid}\t{uid}\t{uid}\t{uid}", status, StringComparison.Ordinal);

        // The web side's uid with no capability: the root JVM's maps and mem, and the scanner's own, are refused.
        foreach (string file in new[] { $"/proc/{jvm.Pid}/maps", $"/proc/{jvm.Pid}/mem", $"/proc/{scanner}/maps", $"/proc/{scanner}/mem" })
        {
            var (code, _, stderr) = ToolRunner.Run("setpriv", [$"--reuid={uid}", $"--regid={uid}", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "head", "-c1", file]);
            Assert.True(code != 0 && stderr.Contains("Permission denied", StringComparison.Ordinal), $"{file} as uid {uid}: exit {code}, {stderr}");
        }

        string scannerStatus = File.ReadAllText($"/proc/{scanner}/status");
        Assert.Equal(2UL, Field(scannerStatus, "Seccomp"));
        Assert.NotEqual(0UL, Field(scannerStatus, "CapEff"));
        Assert.Empty(InetSocketInodes().Intersect(SocketInodes(scanner)));
        Assert.NotEmpty(InetSocketInodes().Intersect(SocketInodes(web)));
        Assert.Contains("The scanner's socket(AF_INET): refused, errno 13", exporter.Daemon.Stderr, StringComparison.Ordinal);
    }

    /// <summary>As the container runs it: uid 65534, the capabilities as file capabilities of the (AOT) binary, none ambient.</summary>
    [Fact]
    public async Task With_file_capabilities_as_in_the_container_the_web_side_gets_none_of_them()
    {
        // A root JVM of its own to scan (the test must not depend on other tests' JVMs being there).
        using JavaWorkload jvm = JavaWorkload.Start(RepoPaths.Jdk17, ["-XX:+UseSerialGC", "-Xmx64m"], 2);
        string dir = Directory.CreateTempSubdirectory("mapsexporter-filecaps-").FullName;
        Assert.Equal(0, ToolRunner.Run("chmod", ["755", dir]).ExitCode); // nobody reaches the copy
        string binary = Path.Combine(dir, "mapsexporter");
        File.Copy(Deploy.AotBinary.Require(), binary);
        Assert.Equal(0, ToolRunner.Run("setcap", ["cap_sys_ptrace,cap_dac_read_search+ep", binary]).ExitCode);
        int port = Ports.Free();
        System.Diagnostics.Process scanner = Deploy.AotBinary.Launch(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
            binary, $"--web.listen-address=127.0.0.1:{port}", "--scan.interval=1s"]);
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            string pid = jvm.Pid.ToString(CultureInfo.InvariantCulture);
            await Deploy.AotBinary.WaitForAsync(http, scanner, s => s.AllPids().Contains(pid), "the JVM's series through the web side");
            int web = ListenerPid(port);
            Assert.Equal(scanner.Id, ParentPid(web));
            Assert.NotEqual(0UL, Field(File.ReadAllText($"/proc/{scanner.Id}/status"), "CapEff"));
            string status = File.ReadAllText($"/proc/{web}/status");
            Assert.Equal(0UL, Field(status, "CapEff"));
            Assert.Equal(0UL, Field(status, "CapPrm"));
        }
        finally
        {
            Deploy.AotBinary.Stop(scanner);
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// As root: the scanner binds a port below 1024 and reads a TLS key only root can read, before it drops anything,
    /// and hands both to the web side (an inherited socket, a memfd of the files): nobody's process serves HTTPS on it.
    /// </summary>
    [Fact]
    public async Task As_root_a_port_below_1024_and_a_root_only_key_are_served_by_the_web_side_that_holds_nothing()
    {
        using var tls = new TestCertificate();
        string config = tls.WriteConfig($"tls_server_config:\n  cert_file: {tls.CertFile}\n  key_file: {tls.KeyFile}\n");
        Assert.Equal(0, ToolRunner.Run("chmod", ["600", tls.KeyFile, tls.CertFile, config]).ExitCode);
        Assert.Equal(0, ToolRunner.Run("chmod", ["700", tls.Directory]).ExitCode);
        var (nobodyCode, _, nobodyError) = ToolRunner.Run("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "head", "-c1", tls.KeyFile]);
        Assert.True(nobodyCode != 0 && nobodyError.Contains("Permission denied", StringComparison.Ordinal), $"nobody read the key: exit {nobodyCode}");

        int port = FreePortBelow1024();
        using DaemonProcess daemon = DaemonProcess.Start([$"--web.listen-address=127.0.0.1:{port}", "--scan.interval=1s", $"--web.config.file={config}"]);
        using HttpClient https = tls.Client(new Uri($"https://127.0.0.1:{port}"));
        string metrics = await Poll.UntilAsync(async () =>
        {
            Assert.False(daemon.Process.HasExited, $"the daemon exited: {daemon.Stderr}");
            try
            {
                return await https.GetStringAsync(new Uri("/metrics", UriKind.Relative));
            }
            catch (HttpRequestException)
            {
                return "";
            }
        }, text => text.Contains("mapsexporter_scan_duration_seconds", StringComparison.Ordinal), TimeSpan.FromSeconds(90), "/metrics over HTTPS on the privileged port");
        Assert.Contains("mapsexporter_http_requests_total", metrics, StringComparison.Ordinal);

        int web = ListenerPid(port);
        Assert.NotEqual(daemon.Process.Id, web);
        Assert.Equal(daemon.Process.Id, ParentPid(web));
        string status = File.ReadAllText($"/proc/{web}/status");
        Assert.Equal(0UL, Field(status, "CapEff"));
        Assert.Equal(0UL, Field(status, "CapPrm"));
        Assert.Equal(0UL, Field(status, "CapAmb"));
        Assert.Contains("Uid:\t65534\t65534\t65534\t65534", status, StringComparison.Ordinal);
        Assert.Empty(InetSocketInodes().Intersect(SocketInodes(daemon.Process.Id)));
        Assert.Contains($"Listening on https://127.0.0.1:{port}", daemon.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Killing_the_web_side_ends_the_scanner_with_exit_1_and_nothing_serves_old_figures()
    {
        using Exporter exporter = await StartAsync("root");
        int web = ListenerPid(exporter.Http.BaseAddress!.Port);
        Assert.Equal(0, ToolRunner.Run("kill", ["-KILL", web.ToString(CultureInfo.InvariantCulture)]).ExitCode);
        Assert.True(exporter.Daemon.Process.WaitForExit(10_000), "the scanner did not notice its web side was killed");
        Assert.Equal(1, exporter.Daemon.Process.ExitCode);
        await Assert.ThrowsAsync<HttpRequestException>(() => exporter.Http.GetStringAsync(new Uri("/metrics", UriKind.Relative)));
    }

    [Fact]
    public async Task Killing_the_scanner_ends_the_web_side_and_sigterm_stops_both_within_a_second()
    {
        using (Exporter exporter = await StartAsync("root"))
        {
            int web = ListenerPid(exporter.Http.BaseAddress!.Port);
            Assert.Equal(0, ToolRunner.Run("kill", ["-KILL", exporter.Pid.ToString(CultureInfo.InvariantCulture)]).ExitCode);
            await Poll.UntilAsync(() => Task.FromResult(Directory.Exists($"/proc/{web}")), alive => !alive, TimeSpan.FromSeconds(10), "the web side's exit after its scanner was killed");
            await Assert.ThrowsAsync<HttpRequestException>(() => exporter.Http.GetStringAsync(new Uri("/metrics", UriKind.Relative)));
        }

        using (Exporter exporter = await StartAsync("root"))
        {
            int web = ListenerPid(exporter.Http.BaseAddress!.Port);
            var (code, took) = exporter.Terminate();
            Assert.Equal(0, code);
            Assert.True(took < TimeSpan.FromSeconds(1), $"the scanner took {took.TotalMilliseconds} ms to stop");
            await Poll.UntilAsync(() => Task.FromResult(Directory.Exists($"/proc/{web}")), alive => !alive, TimeSpan.FromSeconds(1), "the web side's exit with its scanner");
        }
    }

    [Fact]
    public async Task With_privsep_false_one_process_listens()
    {
        using Exporter exporter = await Exporter.StartAsync(["--scan.interval=1s", "--web.privsep=false"]);
        Assert.Equal(exporter.Pid, ListenerPid(exporter.Http.BaseAddress!.Port));
        Assert.Equal(0UL, Field(File.ReadAllText($"/proc/{exporter.Pid}/status"), "Seccomp"));
    }

    private static Task<Exporter> StartAsync(string run) => run == "root"
        ? Exporter.StartAsync(["--scan.interval=1s", "--log.level=debug"])
        : Exporter.StartAsync(["--scan.interval=1s", "--log.level=debug"], new Dictionary<string, string> { ["HOME"] = "/nonexistent" }, "setpriv",
        [
            $"--reuid={DynamicUid}", $"--regid={DynamicUid}", "--clear-groups", "--inh-caps=-all,+sys_ptrace,+dac_read_search",
            "--ambient-caps=-all,+sys_ptrace,+dac_read_search", "--bounding-set=-all,+sys_ptrace,+dac_read_search", "--no-new-privs",
        ]);

    /// <summary>The daemon itself, past its launcher (setpriv execs; dotnet is the daemon).</summary>
    private static int ScannerPid(Exporter exporter) => exporter.Pid;

    /// <summary>A port below 1024 nothing listens on (this test runs as root, so it can try them).</summary>
    private static int FreePortBelow1024()
    {
        for (int port = 1023; port > 600; port--)
        {
            try
            {
                using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
                probe.Start();
                return port;
            }
            catch (System.Net.Sockets.SocketException)
            {
            }
        }

        throw new InvalidOperationException("no free port below 1024");
    }

    private static int ListenerPid(int port)
    {
        string inode = File.ReadLines("/proc/net/tcp").Skip(1).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .First(f => f[3] == "0A" && int.Parse(f[1].Split(':')[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture) == port)[9];
        return Directory.EnumerateDirectories("/proc").Select(d => int.TryParse(Path.GetFileName(d), out int pid) ? pid : 0)
            .Where(pid => pid > 0).First(pid => SocketInodes(pid).Contains(inode));
    }

    private static HashSet<string> SocketInodes(int pid)
    {
        var inodes = new HashSet<string>();
        try
        {
            foreach (string fd in Directory.EnumerateFiles($"/proc/{pid}/fd"))
            {
                if (new FileInfo(fd).LinkTarget is { } target && target.StartsWith("socket:[", StringComparison.Ordinal))
                {
                    inodes.Add(target[8..^1]);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return inodes;
    }

    /// <summary>Every inet socket's inode (TCP, UDP, raw; IPv4 and IPv6).</summary>
    private static HashSet<string> InetSocketInodes() =>
        new[] { "tcp", "tcp6", "udp", "udp6", "raw", "raw6" }.SelectMany(f => File.ReadLines($"/proc/net/{f}").Skip(1))
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[9]).ToHashSet();

    private static int ParentPid(int pid) => (int)Field(File.ReadAllText($"/proc/{pid}/status"), "PPid", hex: false);

    private static ulong Field(string status, string name, bool hex = true)
    {
        string value = status.Split('\n').First(l => l.StartsWith(name + ":", StringComparison.Ordinal))[(name.Length + 1)..].Trim();
        return hex && name.StartsWith("Cap", StringComparison.Ordinal)
            ? ulong.Parse(value, NumberStyles.HexNumber, CultureInfo.InvariantCulture)
            : ulong.Parse(value, CultureInfo.InvariantCulture);
    }
}
