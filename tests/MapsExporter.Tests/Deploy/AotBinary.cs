using System.Diagnostics;
using System.Runtime.CompilerServices;
using MapsExporter.Tests.Daemon;
using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Deploy;

/// <summary>
/// The Native AOT release binary, artifacts/mapsexporter, built by deploy/publish.sh (scripts/test.sh runs it before
/// the tests). A missing binary fails the test that needs it: the release is what gets installed.
/// </summary>
public static class AotBinary
{
    // The last lines each launched process wrote, for the failure message when it exits early.
    private static readonly ConditionalWeakTable<Process, Queue<string>> OutputTails = new();

    public static string Path => Environment.GetEnvironmentVariable("MAPSEXPORTER_AOT_BINARY") is { Length: > 0 } path
        ? path
        : System.IO.Path.Combine(RepoPaths.Root, "artifacts", "mapsexporter");

    /// <summary>The binary's path; fails the test with how to build it when it is missing.</summary>
    public static string Require()
    {
        Assert.True(File.Exists(Path), $"the Native AOT binary {Path} is missing: run `bash deploy/publish.sh` (scripts/test.sh runs it before the tests)");
        return Path;
    }

    /// <summary>Starts <paramref name="launcher"/> (or the binary itself) on 127.0.0.1:<paramref name="port"/>, scanning every second.</summary>
    public static Process Start(int port, IEnumerable<string>? launcher = null, params string[] flags)
    {
        string binary = Require();
        return Launch([.. launcher ?? [], binary, $"--web.listen-address=127.0.0.1:{port}", "--scan.interval=1s", "--log.level=warn", .. flags]);
    }

    /// <summary>Starts a long-running command whose output is read (so it never blocks on a full pipe), its last 20 lines kept.</summary>
    public static Process Launch(IReadOnlyList<string> command)
    {
        var info = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in command.Skip(1))
        {
            info.ArgumentList.Add(arg);
        }

        Process process = Process.Start(info)!;
        var tail = new Queue<string>();
        OutputTails.Add(process, tail);
        DataReceivedEventHandler keep = (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (tail)
            {
                tail.Enqueue(e.Data);
                if (tail.Count > 20)
                {
                    tail.Dequeue();
                }
            }
        };
        process.OutputDataReceived += keep;
        process.ErrorDataReceived += keep;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Scrapes http://127.0.0.1:port/metrics until <paramref name="condition"/> holds.</summary>
    public static Task<MetricsScrape> WaitForAsync(HttpClient http, Process process, Func<MetricsScrape, bool> condition, string what, int seconds = 30) =>
        Poll.UntilAsync(async () =>
        {
            if (process.HasExited)
            {
                process.WaitForExit(); // the output read to its end
                Assert.Fail($"{what}: the exporter exited with {process.ExitCode}; its last output:\n{LastOutput(process)}");
            }

            try
            {
                return MetricsScrape.Parse(await http.GetStringAsync(new Uri("/metrics", UriKind.Relative)));
            }
            catch (HttpRequestException)
            {
                return MetricsScrape.Parse("");
            }
        }, condition, TimeSpan.FromSeconds(seconds), what);

    /// <summary>The last lines <paramref name="process"/> (one <see cref="Launch"/> started) wrote.</summary>
    public static string LastOutput(Process process)
    {
        if (!OutputTails.TryGetValue(process, out Queue<string>? tail))
        {
            return "";
        }

        lock (tail)
        {
            return string.Join('\n', tail);
        }
    }

    public static void Stop(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }

        process.Dispose();
    }
}
