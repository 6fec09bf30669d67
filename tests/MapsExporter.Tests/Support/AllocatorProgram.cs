using System.Diagnostics;
using System.Globalization;

namespace MapsExporter.Tests.Support;

/// <summary>
/// tests/workloads/allocators.c built against one malloc (the same builds as tests/Fixtures/capture.sh makes) and run
/// until READY; it blocks on its stdin, which disposing closes. Stderr goes to a file, where jemalloc's
/// malloc_stats_print output lands when gdb calls it.
/// </summary>
public sealed class AllocatorProgram : IDisposable
{
    private static readonly Lock BuildLock = new();
    private static readonly Dictionary<string, string> Built = [];
    private readonly Process _process;

    private AllocatorProgram(Process process, string stderrPath)
    {
        _process = process;
        StderrPath = stderrPath;
    }

    public int Pid => _process.Id;

    public string StderrPath { get; }

    /// <summary>The build variants and how each is made: compiler and the arguments after the source.</summary>
    private static (string Compiler, string[] Args) Recipe(string variant) => variant switch
    {
        "glibc" => ("gcc", []),
        "jemalloc" => ("gcc", ["-ljemalloc"]),
        "jemalloc-static" => ("gcc", ["/usr/lib/x86_64-linux-gnu/libjemalloc_pic.a", "-lm", "-lstdc++", "-ldl"]),
        "tcmalloc" => ("gcc", ["-ltcmalloc_minimal"]),
        "mimalloc" => ("gcc", ["-lmimalloc"]),
        "musl" => ("musl-gcc", []),
        "musl-static" => ("musl-gcc", ["-static"]),
        _ => throw new ArgumentException($"unknown variant {variant}", nameof(variant)),
    };

    /// <summary>Starts the <paramref name="variant"/> build; <paramref name="environment"/> is the child's own (LD_PRELOAD, for a preloaded malloc).</summary>
    public static AllocatorProgram Start(string variant, IDictionary<string, string>? environment = null)
    {
        string binary = Build(variant);
        string stderrPath = Path.Combine(Path.GetTempPath(), $"mapsexporter-alloc-{Guid.NewGuid():N}.stderr");
        var info = new ProcessStartInfo("/bin/sh") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("exec \"$@\" 2>\"$MAPSEXPORTER_STDERR\"");
        info.ArgumentList.Add("sh");
        info.ArgumentList.Add(binary);
        info.Environment["MAPSEXPORTER_STDERR"] = stderrPath;
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var program = new AllocatorProgram(Process.Start(info)!, stderrPath);
        Task<string?> line = program._process.StandardOutput.ReadLineAsync();
        if (!line.Wait(TimeSpan.FromSeconds(30)) || line.Result != "READY")
        {
            program.Dispose();
            throw new InvalidOperationException($"{variant} did not print READY");
        }

        return program;
    }

    public void Dispose()
    {
        try
        {
            _process.StandardInput.Close();
            if (!_process.WaitForExit(5000))
            {
                _process.Kill();
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
        File.Delete(StderrPath);
    }

    private static string Build(string variant)
    {
        lock (BuildLock)
        {
            if (Built.TryGetValue(variant, out string? path))
            {
                return path;
            }

            (string compiler, string[] args) = Recipe(variant);
            string directory = Path.Combine(Path.GetTempPath(), $"mapsexporter-alloc-{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}");
            Directory.CreateDirectory(directory);
            path = Path.Combine(directory, "alloc-" + variant);
            var (code, stdout, stderr) = ToolRunner.Run(compiler, ["-O2", "-pthread", "-o", path, Path.Combine(RepoPaths.Workloads, "allocators.c"), .. args]);
            if (code != 0)
            {
                throw new InvalidOperationException($"{compiler} failed for {variant}: {stdout}{stderr}");
            }

            Built[variant] = path;
            return path;
        }
    }
}
