using System.Globalization;

namespace MapsExporter.Tests.Support;

/// <summary>
/// Memory cgroups (v1, as on the test machines) made for one test BELOW the memory cgroup the test process starts in:
/// that one belongs to the machine, so its files are never written and no process is moved out of it. Processes
/// the test starts move themselves into these children; <see cref="Dispose"/> removes every directory it made
/// (deepest first) once they have exited.
/// </summary>
public sealed class TestCgroups : IDisposable
{
    private readonly List<string> _made = [];

    public TestCgroups()
    {
        string line = File.ReadAllLines("/proc/self/cgroup").Single(l => l.Split(':')[1].Split(',').Contains("memory"));
        StartPath = line[(line.IndexOf(':', line.IndexOf(':', StringComparison.Ordinal) + 1) + 1)..];
        string name = $"mapsexporter-test-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";
        Path = (StartPath == "/" ? "" : StartPath) + "/" + name;
        Make("");
    }

    public static string Mount => "/sys/fs/cgroup/memory";

    /// <summary>The memory cgroup the test process started in (never written).</summary>
    public string StartPath { get; }

    /// <summary>This test's own cgroup, a child of <see cref="StartPath"/>: every cgroup made lies below it.</summary>
    public string Path { get; }

    /// <summary>Makes <paramref name="relative"/> (and its parents) below <see cref="Path"/>; returns its cgroup path.</summary>
    public string Make(string relative)
    {
        string path = Path;
        foreach (string part in relative.Split('/', StringSplitOptions.RemoveEmptyEntries).Prepend(""))
        {
            path = part.Length == 0 ? Path : path + "/" + part;
            if (!Directory.Exists(Mount + path))
            {
                Directory.CreateDirectory(Mount + path);
                _made.Add(path);
            }
        }

        return path;
    }

    /// <summary>Sets memory.limit_in_bytes of a cgroup this made (never the starting one).</summary>
    public void Limit(string path, long bytes)
    {
        Assert.True(_made.Contains(path), $"{path} was not made by this test");
        File.WriteAllText($"{Mount}{path}/memory.limit_in_bytes", bytes.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>The cgroup.procs file a process started by the test writes its own PID into.</summary>
    public static string Procs(string path) => $"{Mount}{path}/cgroup.procs";

    public void Dispose()
    {
        foreach (string path in _made.OrderByDescending(p => p.Length))
        {
            // A cgroup whose last process was just reaped can be busy for a moment.
            for (int attempt = 0; Directory.Exists(Mount + path); attempt++)
            {
                try
                {
                    Directory.Delete(Mount + path);
                }
                catch (IOException) when (attempt < 50)
                {
                    Thread.Sleep(100);
                }
            }
        }
    }
}
