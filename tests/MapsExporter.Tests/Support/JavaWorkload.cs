using System.Diagnostics;

namespace MapsExporter.Tests.Support;

/// <summary>
/// A real JVM running tests/workloads/Workload.java with the given flags, started and waited for until it
/// prints READY. Native Memory Tracking is on so tests can compare against the JVM's own accounting.
/// Stderr goes to a file, where malloc_stats() output lands when gdb calls it.
/// </summary>
public sealed class JavaWorkload : IDisposable
{
    private static readonly Lock CompileLock = new();
    private static readonly Dictionary<string, string> CompiledClasses = [];
    private readonly Process _process;

    private JavaWorkload(Process process, string stderrPath, string jdk, string toolsJdk)
    {
        _process = process;
        StderrPath = stderrPath;
        Jdk = jdk;
        ToolsJdk = toolsJdk;
    }

    public int Pid => _process.Id;

    public string Jdk { get; }

    /// <summary>Where javac and jcmd come from: the JDK itself, or another of the same release for a bare JRE.</summary>
    public string ToolsJdk { get; }

    public string StderrPath { get; }

    public bool HasExited => _process.HasExited;

    private static string Link(string target, string name)
    {
        string path = Path.Combine(Directory.CreateTempSubdirectory("mapsexporter-launcher-").FullName, name);
        File.CreateSymbolicLink(path, target);
        return path;
    }

    /// <summary>
    /// Starts <c>java [flags] Workload threads [extra...]</c> and waits for READY; with <paramref name="launcher"/>, through
    /// a link of that name to java (as jsvc or a jpackage launcher would: another argv[0] and comm). A bare JRE
    /// (no javac, no jcmd) takes them from <paramref name="toolsJdk"/>.
    /// </summary>
    public static JavaWorkload Start(string jdk, IEnumerable<string> jvmFlags, int threads, IEnumerable<string>? extraArgs = null, IDictionary<string, string>? environment = null, string? launcher = null, string? toolsJdk = null)
    {
        toolsJdk ??= jdk;
        string classes = Compile(toolsJdk);
        string stderrPath = Path.Combine(Path.GetTempPath(), $"mapsexporter-jvm-{Guid.NewGuid():N}.stderr");
        var info = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, UseShellExecute = false };
        // The shell only redirects stderr to a file (so gdb-triggered malloc_stats output can be read), moves itself
        // into the cgroup whose cgroup.procs MAPSEXPORTER_CGROUP_PROCS names when set (a cgroup test's), and execs java.
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("[ -z \"$MAPSEXPORTER_CGROUP_PROCS\" ] || echo $$ >\"$MAPSEXPORTER_CGROUP_PROCS\" || exit 1; exec \"$@\" 2>\"$MAPSEXPORTER_STDERR\"");
        info.ArgumentList.Add("sh");
        info.ArgumentList.Add(launcher is null ? Path.Combine(jdk, "bin", "java") : Link(Path.Combine(jdk, "bin", "java"), launcher));
        info.ArgumentList.Add("-XX:NativeMemoryTracking=summary");
        foreach (string flag in jvmFlags)
        {
            info.ArgumentList.Add(flag);
        }

        info.ArgumentList.Add("-cp");
        info.ArgumentList.Add(classes);
        info.ArgumentList.Add("Workload");
        info.ArgumentList.Add(threads.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (string arg in extraArgs ?? [])
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["MAPSEXPORTER_STDERR"] = stderrPath;
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        Process process = Process.Start(info)!;
        var workload = new JavaWorkload(process, stderrPath, jdk, toolsJdk);
        Task<string?> line = process.StandardOutput.ReadLineAsync();
        if (!line.Wait(TimeSpan.FromSeconds(60)) || line.Result != "READY")
        {
            string err = File.Exists(stderrPath) ? File.ReadAllText(stderrPath) : "";
            workload.Dispose();
            throw new InvalidOperationException($"JVM did not print READY (got '{(line.IsCompleted ? line.Result : "nothing")}'): {err}");
        }

        return workload;
    }

    /// <summary><c>jcmd PID VM.native_memory summary</c>.</summary>
    public NmtSummary NativeMemorySummary()
    {
        var (code, stdout, stderr) = ToolRunner.Run(Path.Combine(ToolsJdk, "bin", "jcmd"), [Pid.ToString(System.Globalization.CultureInfo.InvariantCulture), "VM.native_memory", "summary"]);
        if (code != 0)
        {
            throw new InvalidOperationException($"jcmd failed: {stdout}{stderr}");
        }

        return NmtSummary.Parse(stdout);
    }

    /// <summary>glibc's own arena count (main arena included), from malloc_stats() called through gdb.</summary>
    public int GlibcArenaCount() => MallocStats.CountArenas(Pid, StderrPath);

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
        File.Delete(StderrPath);
    }

    private static string Compile(string jdk)
    {
        lock (CompileLock)
        {
            if (CompiledClasses.TryGetValue(jdk, out string? dir))
            {
                return dir;
            }

            dir = Path.Combine(Path.GetTempPath(), $"mapsexporter-workload-{Path.GetFileName(jdk)}-{Environment.ProcessId}");
            Directory.CreateDirectory(dir);
            var (code, stdout, stderr) = ToolRunner.Run(Path.Combine(jdk, "bin", "javac"), ["-d", dir, Path.Combine(RepoPaths.Workloads, "Workload.java")]);
            if (code != 0)
            {
                throw new InvalidOperationException($"javac failed: {stdout}{stderr}");
            }

            CompiledClasses[jdk] = dir;
            return dir;
        }
    }
}
