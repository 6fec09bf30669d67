using MapsExporter.Core.Cgroups;
using MapsExporter.Core.Proc;
using MapsExporter.Core.Scanning;
using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Core.Cgroups;

/// <summary>
/// The scanner on the captured procfs tree (tests/Fixtures/procfs/tree, two JVMs and a native program) copied with a
/// /proc/PID/cgroup each, over a constructed v2 cgroupfs: bad cgroup input reports the process all the same, with
/// what could be filled, and counts one error of reason cgroup; the memory cgroup two processes share is one figure.
/// </summary>
public sealed class ScannerCgroupTests : IDisposable
{
    private const string Shared = "/system.slice/shop.service";
    private readonly string _proc = Directory.CreateTempSubdirectory("proc-tree-").FullName;
    private readonly string _cgroupFs = Directory.CreateTempSubdirectory("cgroup-v2-").FullName;

    public ScannerCgroupTests()
    {
        CopyTree(Path.Combine(RepoPaths.Fixtures, "procfs", "tree"), _proc);
        File.WriteAllText(Path.Combine(_cgroupFs, "cgroup.controllers"), "memory pids\n");
        Directory.CreateDirectory(_cgroupFs + Shared);
        foreach (var (file, text) in new[] { ("memory.max", "1073741824\n"), ("memory.current", "536870912\n"), ("memory.stat", "anon 402653184\nfile 134217728\n"), ("memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n") })
        {
            File.WriteAllText(Path.Combine(_cgroupFs + Shared, file), text);
        }
    }

    [Fact]
    public void Bad_cgroup_input_reports_the_process_with_what_could_be_filled_and_counts_reason_cgroup()
    {
        // The two JVMs share one service; the native program sits under an engine nobody knows.
        File.WriteAllText(Path.Combine(_proc, "25848", "cgroup"), $"0::{Shared}\n");
        File.WriteAllText(Path.Combine(_proc, "25849", "cgroup"), $"0::{Shared}\n");
        File.WriteAllText(Path.Combine(_proc, "25852", "cgroup"), "0::/system.slice/nerdctl-0ca2b3cd20e5f55a2bbe8d4aa3f811cf7963b40f0542ad147054b0fcb60fc400.scope\n");
        using var scanner = new ProcessScanner(new ProcFs(_proc), new ProcessSelector(includeNative: "arenas"), cgroupFs: new CgroupFs(_cgroupFs));
        ScanSnapshot scan = scanner.Scan();
        Assert.Equal(3, scan.Processes.Count);
        ScanError error = Assert.Single(scan.Errors);
        Assert.Equal((25852, ReadFailure.Cgroup), (error.Pid, error.Reason));
        CgroupPlacement unknown = scan.Processes.Single(p => p.Pid == 25852).Report.Cgroup!;
        Assert.Equal("0ca2b3cd20e5f55a2bbe8d4aa3f811cf7963b40f0542ad147054b0fcb60fc400", unknown.Identity.ContainerId);
        Assert.Equal("", unknown.Identity.ContainerRuntime);
        // Its cgroup does not exist in this tree either: no figures, still one error for the process.
        Assert.Null(unknown.Memory!.UsageBytes);

        CgroupMemory first = scan.Processes.Single(p => p.Pid == 25848).Report.Cgroup!.Memory!;
        Assert.Same(first, scan.Processes.Single(p => p.Pid == 25849).Report.Cgroup!.Memory);
        Assert.Equal(new CgroupMemory(Shared, 1L << 30, Shared, 536870912, 402653184, 134217728, 0), first);

        // An unparsable file and a vanished cgroup: reported, labels empty, one error each.
        File.WriteAllText(Path.Combine(_proc, "25848", "cgroup"), "what\n");
        Directory.Delete(_cgroupFs + Shared, recursive: true);
        ScanSnapshot bad = scanner.Scan();
        Assert.Equal(3, bad.Processes.Count);
        Assert.Equal([25848, 25849, 25852], bad.Errors.Where(e => e.Reason == ReadFailure.Cgroup).Select(e => e.Pid).Order());
        Assert.Same(CgroupPlacement.Unknown, bad.Processes.Single(p => p.Pid == 25848).Report.Cgroup);
        Assert.Equal(Shared, bad.Processes.Single(p => p.Pid == 25849).Report.Cgroup!.Path);
        Assert.True(bad.Success);
    }

    private static void CopyTree(string from, string to)
    {
        foreach (string directory in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, directory)));
        }

        foreach (string file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
        }
    }

    public void Dispose()
    {
        Directory.Delete(_proc, recursive: true);
        Directory.Delete(_cgroupFs, recursive: true);
    }
}
