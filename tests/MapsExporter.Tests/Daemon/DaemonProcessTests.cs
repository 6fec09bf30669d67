using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace MapsExporter.Tests.Daemon;

/// <summary>The binary: exit codes and messages for bad settings, JSON logs, and systemd's notify protocol.</summary>
public sealed class DaemonProcessTests
{
    [Theory]
    [InlineData("--scan.interval=banana", "--scan.interval")]
    [InlineData("--scan.interval=1m1h", "--scan.interval")]
    [InlineData("--web.listen-address=nowhere", "--web.listen-address")]
    [InlineData("--web.listen-address=:99999", "--web.listen-address")]
    [InlineData("--path.procfs=/nonexistent", "--path.procfs")]
    [InlineData("--path.sysfs=/nonexistent", "--path.sysfs")]
    [InlineData("--scan-interval=banana", "--scan.interval")]
    [InlineData("--log.level=loud", "--log.level")]
    [InlineData("--log.format=xml", "--log.format")]
    [InlineData("--selection.include-app=(", "--selection.include-app")]
    [InlineData("--scan.smaps=maybe", "--scan.smaps")]
    [InlineData("--web.history=an-hour", "--web.history")]
    [InlineData("--web.history=0s", "--web.history")]
    public void A_bad_flag_value_is_one_line_naming_the_setting_and_exit_78(string flag, string name)
    {
        // Should a bad value be taken, the daemon must not take the default port: listen on port 0 then.
        string[] args = flag.StartsWith("--web.listen-address", StringComparison.Ordinal) ? [flag] : [flag, "--web.listen-address=127.0.0.1:0"];
        (int code, string stderr) = DaemonProcess.Run(args);

        Assert.Equal(78, code);
        string[] lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line, got: {stderr}");
        Assert.StartsWith($"mapsexporter: {name} ", lines[0], StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_value_from_the_environment_names_the_setting_too()
    {
        (int code, string stderr) = DaemonProcess.Run(["--web.listen-address=127.0.0.1:0"], new Dictionary<string, string> { ["MAPSEXPORTER__SCAN__INTERVAL"] = "soon" });
        Assert.Equal(78, code);
        Assert.Equal("mapsexporter: --scan.interval (Scan:Interval): 'soon' is not a positive duration like 500ms, 15s, 1m or 1h30m", stderr.Trim());
    }

    [Fact]
    public void An_unknown_flag_is_a_usage_error()
    {
        (int code, string stderr) = DaemonProcess.Run(["--web.listen-adress=:1"]);
        Assert.Equal(64, code);
        Assert.Contains("unknown flag --web.listen-adress", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("true")]
    [InlineData("false")]
    public async Task Sigterm_while_starting_is_a_clean_stop(string privsep)
    {
        // The host's start also watches the stop: SIGTERM before the first scan (or before the web side listens)
        // once crashed the daemon with an unhandled TaskCanceledException (exit 134).
        foreach (int delay in new[] { 150, 300, 500, 800 })
        {
            using DaemonProcess daemon = DaemonProcess.Start(["--web.listen-address=127.0.0.1:0", "--scan.interval=200ms", $"--web.privsep={privsep}"]);
            await Poll.UntilAsync(() => Task.FromResult(daemon.Stderr.Length), length => length > 0 || daemon.Process.HasExited, TimeSpan.FromSeconds(30), "the daemon's first line");
            await Task.Delay(delay);
            DaemonProcess.Terminate(daemon.Process.Id);
            await daemon.Process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            daemon.Process.WaitForExit();
            Assert.True(daemon.Process.ExitCode == 0, $"SIGTERM {delay} ms after the first line: exit {daemon.Process.ExitCode}: {daemon.Stderr}");
            Assert.DoesNotContain("Unhandled exception", daemon.Stderr, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Json_log_format_writes_one_json_object_per_line_and_sigterm_exits_0()
    {
        using DaemonProcess daemon = DaemonProcess.Start(["--web.listen-address=127.0.0.1:0", "--scan.interval=200ms", "--log.format=json", "--log.level=debug"]);
        await Poll.UntilAsync(
            () => Task.FromResult(daemon.Stderr),
            text => text.Split('\n').Count(l => l.Contains("took", StringComparison.Ordinal)) >= 3,
            TimeSpan.FromSeconds(30),
            "three scans logged at debug");
        DaemonProcess.Terminate(daemon.Process.Id);
        await daemon.Process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(daemon.Process.ExitCode == 0, $"exit {daemon.Process.ExitCode}: {daemon.Stderr}");

        string[] lines = daemon.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        foreach (string line in lines)
        {
            using JsonDocument doc = JsonDocument.Parse(line);
            Assert.True(doc.RootElement.TryGetProperty("@t", out _), line);
            Assert.True(doc.RootElement.TryGetProperty("@mt", out _), line);
        }

        Assert.Contains(lines, l => l.Contains("\"@l\":\"Debug\"", StringComparison.Ordinal) && l.Contains("Scan {Scan} took", StringComparison.Ordinal));
        Assert.Equal("", daemon.Stdout);
    }

    [Fact]
    public async Task Under_systemd_it_sends_ready_after_the_first_scan_and_stopping_on_sigterm()
    {
        string dir = Directory.CreateTempSubdirectory("mx-sd-").FullName;
        try
        {
            // Hosting.Systemd switches on when the parent process's comm is "systemd": a copy of bash by that name.
            string fakeSystemd = Path.Combine(dir, "systemd");
            File.Copy("/bin/bash", fakeSystemd);
            string socketPath = Path.Combine(dir, "notify");
            using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            socket.Bind(new UnixDomainSocketEndPoint(socketPath));
            int port = Ports.Free();

            // A scan interval of an hour: only the start-up scan ever runs, so data at READY=1 proves the order.
            using DaemonProcess shell = DaemonProcess.Start(
                [$"--web.listen-address=127.0.0.1:{port}", "--scan.interval=1h"],
                new Dictionary<string, string> { ["NOTIFY_SOCKET"] = socketPath },
                launcher: fakeSystemd,
                launcherArgs: ["-c", "\"$@\" & echo $!; wait $!", "systemd"]);

            Assert.Equal("READY=1", await ReceiveAsync(socket, shell));
            using var http = new HttpClient();
            MetricsScrape scrape = MetricsScrape.Parse(await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/metrics")));
            Assert.Equal(1, scrape.Value("mapsexporter_last_scan_success"));
            Assert.True(scrape.Value("mapsexporter_last_scan_timestamp_seconds") > 0);

            // Journald priority prefixes on the text log.
            await Poll.UntilAsync(() => Task.FromResult(shell.Stderr), t => t.Contains("Listening on", StringComparison.Ordinal), TimeSpan.FromSeconds(10), "the listening line");
            Assert.All(shell.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), line => Assert.Matches(@"^<[2-7]>ts=", line));

            int daemonPid = int.Parse(shell.Stdout.Split('\n')[0], CultureInfo.InvariantCulture);
            DaemonProcess.Terminate(daemonPid);
            Assert.Equal("STOPPING=1", await ReceiveAsync(socket, shell));
            await shell.Process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(0, shell.Process.ExitCode);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task<string> ReceiveAsync(Socket socket, DaemonProcess shell)
    {
        byte[] buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            int length = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            return Encoding.UTF8.GetString(buffer, 0, length).Trim();
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"no notification from the daemon; its stderr: {shell.Stderr}");
            throw;
        }
    }
}
