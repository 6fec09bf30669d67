using System.Diagnostics;
using System.Globalization;
using MapsExporter.Tests.Daemon;
using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Reliability;

/// <summary>The real daemon binary on a free port of 127.0.0.1, with a client; optionally under a launcher (setpriv, strace).</summary>
internal sealed class Exporter : IDisposable
{
    private Exporter(DaemonProcess daemon, int port)
    {
        Daemon = daemon;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(60) };
    }

    public DaemonProcess Daemon { get; }

    public HttpClient Http { get; }

    public int Pid => Daemon.Process.Id;

    /// <summary>Starts it and waits until /healthz answers (the first scan is published).</summary>
    public static async Task<Exporter> StartAsync(IEnumerable<string> flags, IDictionary<string, string>? environment = null, string? launcher = null, IEnumerable<string>? launcherArgs = null)
    {
        int port = Ports.Free();
        DaemonProcess daemon = DaemonProcess.Start([$"--web.listen-address=127.0.0.1:{port}", .. flags], environment, launcher, launcherArgs);
        var exporter = new Exporter(daemon, port);
        DateTime deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            if (daemon.Process.HasExited)
            {
                daemon.Process.WaitForExit();
                Assert.Fail($"the daemon exited with {daemon.Process.ExitCode}: {daemon.Stderr}");
            }

            try
            {
                using HttpResponseMessage response = await exporter.Http.GetAsync(new Uri("/healthz", UriKind.Relative));
                return exporter;
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    public async Task<MetricsScrape> ScrapeAsync() => MetricsScrape.Parse(await Http.GetStringAsync(new Uri("/metrics", UriKind.Relative)));

    public Task<MetricsScrape> WaitForAsync(Func<MetricsScrape, bool> condition, string what, int seconds = 60) =>
        Poll.UntilAsync(ScrapeAsync, condition, TimeSpan.FromSeconds(seconds), what);

    /// <summary>SIGTERM; the exit code and how long the stop took.</summary>
    public (int Code, TimeSpan Took) Terminate()
    {
        var watch = Stopwatch.StartNew();
        DaemonProcess.Terminate(Pid);
        Assert.True(Daemon.Process.WaitForExit(10_000), "no exit within 10 s of SIGTERM");
        watch.Stop();
        Daemon.Process.WaitForExit();
        return (Daemon.Process.ExitCode, watch.Elapsed);
    }

    public long PeakRssBytes() => Status("VmHWM:");

    private long Status(string key) => long.Parse(
        File.ReadLines($"/proc/{Pid}/status").First(l => l.StartsWith(key, StringComparison.Ordinal))[key.Length..].Trim().Split(' ')[0],
        CultureInfo.InvariantCulture) * 1024;

    /// <summary>Every line the daemon wrote, stdout and stderr.</summary>
    public string Output => Daemon.Stdout + Daemon.Stderr;

    public void Dispose()
    {
        Http.Dispose();
        Daemon.Dispose();
    }

    /// <summary>A copy of a binary under another name (so its comm is that name), in a temp folder.</summary>
    public static string CopyBinary(string source, string name)
    {
        string dir = Directory.CreateTempSubdirectory("mapsexporter-bin-").FullName;
        string path = Path.Combine(dir, name);
        File.Copy(source, path);
        Assert.Equal(0, ToolRunner.Run("chmod", ["755", dir, path]).ExitCode);
        return path;
    }

    /// <summary>No exception type names or stack frames in the daemon's output.</summary>
    public void AssertNoExceptions()
    {
        string output = Output;
        Assert.False(output.Contains("Exception", StringComparison.Ordinal) || output.Contains("\n   at ", StringComparison.Ordinal), output.Length > 8000 ? output[^8000..] : output);
    }
}

/// <summary>tests/workloads/mappings.c: N pages with alternating permissions (2N VMAs), a comm and a thread name with control characters.</summary>
internal sealed class MappingsProgram : IDisposable
{
    private static readonly Lazy<string> Binary = new(() =>
    {
        string output = Path.Combine(Path.GetTempPath(), $"mapsexporter-mappings-{Environment.ProcessId}");
        var (code, stdout, stderr) = ToolRunner.Run("gcc", ["-O2", "-pthread", "-o", output, Path.Combine(RepoPaths.Workloads, "mappings.c")]);
        return code == 0 ? output : throw new InvalidOperationException($"gcc failed: {stdout}{stderr}");
    });

    private readonly Process _process;

    private MappingsProgram(Process process) => _process = process;

    public int Pid => _process.Id;

    public static MappingsProgram Start(int pages)
    {
        var info = new ProcessStartInfo(Binary.Value) { RedirectStandardOutput = true, UseShellExecute = false };
        info.ArgumentList.Add(pages.ToString(CultureInfo.InvariantCulture));
        var program = new MappingsProgram(Process.Start(info)!);
        string? line = program._process.StandardOutput.ReadLine();
        if (line != "READY")
        {
            program.Dispose();
            throw new InvalidOperationException($"mappings did not print READY (got '{line}')");
        }

        return program;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }

        _process.Dispose();
    }
}

/// <summary>
/// A root JVM whose main class is a name no other test uses (so <c>--selection.include-app</c> selects it alone, whatever else
/// runs on the machine): four threads that allocate, then sleep; prints READY; lives until disposed.
/// </summary>
internal sealed class ProbeJvm : IDisposable
{
    private static readonly Dictionary<string, string> Compiled = [];
    private readonly Process _process;

    private ProbeJvm(Process process) => _process = process;

    public int Pid => _process.Id;

    public static ProbeJvm Start(string mainClass, IEnumerable<string> jvmFlags)
    {
        string dir;
        lock (Compiled)
        {
            if (!Compiled.TryGetValue(mainClass, out dir!))
            {
                dir = Directory.CreateTempSubdirectory("mapsexporter-probe-").FullName;
                File.WriteAllText(Path.Combine(dir, $"{mainClass}.java"), $$"""
                    public class {{mainClass}} {
                        public static void main(String[] args) throws Exception {
                            for (int i = 0; i < 4; i++) {
                                Thread t = new Thread(() -> {
                                    java.util.List<byte[]> keep = new java.util.ArrayList<>();
                                    for (int j = 0; j < 100; j++) keep.add(new byte[1024]);
                                    try { Thread.sleep(Long.MAX_VALUE); } catch (InterruptedException e) { }
                                }, "probe-" + i);
                                t.setDaemon(true);
                                t.start();
                            }
                            System.out.println("READY");
                            System.out.flush();
                            Thread.sleep(Long.MAX_VALUE);
                        }
                    }
                    """);
                var (code, stdout, stderr) = ToolRunner.Run(Path.Combine(RepoPaths.Jdk17, "bin", "javac"), ["-d", dir, Path.Combine(dir, $"{mainClass}.java")]);
                Assert.True(code == 0, $"javac: {stdout}{stderr}");
                Compiled[mainClass] = dir;
            }
        }

        var info = new ProcessStartInfo(Path.Combine(RepoPaths.Jdk17, "bin", "java")) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string arg in (IEnumerable<string>)[.. jvmFlags, "-cp", dir, mainClass])
        {
            info.ArgumentList.Add(arg);
        }

        var probe = new ProbeJvm(Process.Start(info)!);
        Task<string?> line = probe._process.StandardOutput.ReadLineAsync();
        if (!line.Wait(TimeSpan.FromSeconds(60)) || line.Result != "READY")
        {
            probe.Dispose();
            Assert.Fail($"{mainClass} did not print READY");
        }

        return probe;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }

        _process.Dispose();
    }
}
