using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace MapsExporter.Tests.Support;

/// <summary>
/// tests/workloads/arenas.c (or another workload of the same protocol: READY, then "stats"), compiled with gcc and run:
/// N threads that each get their own glibc arena.
/// </summary>
public sealed class NativeArenaProgram : IDisposable
{
    private static readonly Dictionary<string, Lazy<string>> Binaries = new()
    {
        ["arenas"] = new(() => Compile("arenas")),
        ["freelists"] = new(() => Compile("freelists")),
    };
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();

    private NativeArenaProgram(Process process)
    {
        _process = process;
        _process.ErrorDataReceived += (_, e) =>
        {
            lock (_stderr)
            {
                _stderr.AppendLine(e.Data);
            }
        };
        _process.BeginErrorReadLine();
    }

    public int Pid => _process.Id;

    public static NativeArenaProgram Start(int threads, int? arenaMax = null, string workload = "arenas", string? preload = null)
    {
        var info = new ProcessStartInfo(Binaries[workload].Value)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(threads.ToString(CultureInfo.InvariantCulture));
        if (arenaMax is { } max)
        {
            info.Environment["MALLOC_ARENA_MAX"] = max.ToString(CultureInfo.InvariantCulture);
        }

        if (preload is not null)
        {
            info.Environment["LD_PRELOAD"] = preload;
        }

        var program = new NativeArenaProgram(Process.Start(info)!);
        string? line = program.ReadLine();
        if (line is null || !line.StartsWith("READY", StringComparison.Ordinal))
        {
            program.Dispose();
            throw new InvalidOperationException($"{workload} did not print READY (got '{line}')");
        }

        return program;
    }

    /// <summary>glibc's own count of arenas, the main one included, from the program's malloc_stats().</summary>
    public int GlibcArenaCount() => MallocStats.CountArenas(Stats("Total (incl. mmap):"));

    /// <summary>Asks for the program's malloc_stats() (and whatever else its "stats" prints) and returns its stderr up to <paramref name="last"/>.</summary>
    public string Stats(string last)
    {
        _process.StandardInput.WriteLine("stats");
        _process.StandardInput.Flush();
        string? line = ReadLine();
        if (line != "STATS-DONE")
        {
            throw new InvalidOperationException($"expected STATS-DONE, got '{line}'");
        }

        // stderr is read asynchronously: give the last lines a moment to arrive.
        for (int i = 0; i < 50; i++)
        {
            lock (_stderr)
            {
                if (_stderr.ToString().Contains(last, StringComparison.Ordinal))
                {
                    break;
                }
            }

            Thread.Sleep(20);
        }

        lock (_stderr)
        {
            return _stderr.ToString();
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
    }

    private string? ReadLine()
    {
        Task<string?> read = _process.StandardOutput.ReadLineAsync();
        return read.Wait(TimeSpan.FromSeconds(30)) ? read.Result : null;
    }

    private static string Compile(string workload)
    {
        // Named plainly after the workload: the comm, and so the report's app name, is the binary's name.
        string directory = Path.Combine(Path.GetTempPath(), $"mapsexporter-native-{Environment.ProcessId}");
        Directory.CreateDirectory(directory);
        string output = Path.Combine(directory, workload);
        var (code, stdout, stderr) = ToolRunner.Run("gcc", ["-O2", "-pthread", "-o", output, Path.Combine(RepoPaths.Workloads, workload + ".c")]);
        if (code != 0)
        {
            throw new InvalidOperationException($"gcc failed: {stdout}{stderr}");
        }

        return output;
    }
}
