using MapsExporter.Core.Cgroups;
using MapsExporter.Core.Proc;

namespace MapsExporter.Tests.Core.Cgroups;

/// <summary>
/// The memory files of a constructed cgroup v2 tree (no v2 memory controller on the test machines), laid out and
/// written as the kernel writes them (Documentation/admin-guide/cgroup-v2.rst: memory.max "max" or bytes,
/// memory.current, flat-keyed memory.stat and memory.events), and the bad input the reader must survive.
/// </summary>
public sealed class CgroupMemoryReaderTests : IDisposable
{
    private const string Pod = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0b7632a2_a56e_4278_987a_22de18008dbe.slice";
    private const string Container = Pod + "/cri-containerd-f45298cd514d1930c4fe3afc4412e59547f7e3148fddd22ca33cefce046eb830.scope";
    private readonly string _root = Directory.CreateTempSubdirectory("cgroup-v2-").FullName;

    public CgroupMemoryReaderTests()
    {
        File.WriteAllText(Path.Combine(_root, "cgroup.controllers"), "cpuset cpu io memory hugetlb pids rdma misc\n");
        // The root cgroup has no memory.max; the QoS slices are unlimited; the pod has 2000 MiB, its container 2500 MiB:
        // the pod's is the lower, so it is the effective one (the JVM's walk takes it too).
        Cgroup("/kubepods.slice", "max");
        Cgroup("/kubepods.slice/kubepods-burstable.slice", "max");
        Cgroup(Pod, (2000L << 20).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Cgroup(Container, (2500L << 20).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Write(Container, "memory.current", "1879048192\n");
        Write(Container, "memory.stat", string.Join('\n',
            "anon 1610612736", "file 201326592", "kernel 16777216", "kernel_stack 1048576", "pagetables 4194304", "sec_pagetables 0",
            "percpu 0", "sock 0", "vmalloc 0", "shmem 0", "zswap 0", "zswapped 0", "file_mapped 67108864", "file_dirty 0",
            "file_writeback 0", "swapcached 0", "anon_thp 0", "file_thp 0", "shmem_thp 0", "inactive_anon 1610612736",
            "active_anon 0", "inactive_file 134217728", "active_file 67108864", "unevictable 0", "slab_reclaimable 2097152",
            "slab_unreclaimable 1048576", "slab 3145728", "workingset_refault_anon 0", "pgfault 123456", "pgmajfault 12") + "\n");
        Write(Container, "memory.events", "low 0\nhigh 0\nmax 17\noom 3\noom_kill 2\noom_group_kill 0\n");
    }

    [Fact]
    public void The_effective_limit_is_the_lowest_over_the_ancestors_and_names_the_cgroup_that_sets_it()
    {
        var fs = new CgroupFs(_root);
        Assert.True(fs.IsUnified);
        var problems = new List<string>();
        CgroupMemory memory = CgroupMemoryReader.Read(fs, Container, v1: false, problems);
        Assert.Empty(problems);
        Assert.Equal(new CgroupMemory(Container, 2000L << 20, Pod, 1879048192, 1610612736, 201326592, 2), memory);
    }

    [Fact]
    public void Max_everywhere_is_unlimited_not_an_error()
    {
        Write(Pod, "memory.max", "max\n");
        Write(Container, "memory.max", "max\n");
        var problems = new List<string>();
        CgroupMemory memory = CgroupMemoryReader.Read(new CgroupFs(_root), Container, v1: false, problems);
        Assert.Empty(problems);
        Assert.Null(memory.LimitBytes);
        Assert.Null(memory.LimitCgroup);
        Assert.Equal(1879048192, memory.UsageBytes);
    }

    [Fact]
    public void An_unparsable_file_leaves_its_figure_empty_and_says_which()
    {
        Write(Container, "memory.current", "lots\n");
        Write(Container, "memory.stat", "anon\n");
        var problems = new List<string>();
        CgroupMemory memory = CgroupMemoryReader.Read(new CgroupFs(_root), Container, v1: false, problems);
        Assert.Null(memory.UsageBytes);
        Assert.Null(memory.AnonBytes);
        Assert.Null(memory.FileBytes);
        Assert.Equal(2000L << 20, memory.LimitBytes);
        Assert.Equal(2, memory.OomKills);
        Assert.Contains(problems, p => p.Contains("memory.current", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("memory.stat", StringComparison.Ordinal));
    }

    [Fact]
    public void A_vanished_cgroup_gives_no_figures_and_one_problem_per_file()
    {
        var problems = new List<string>();
        CgroupMemory memory = CgroupMemoryReader.Read(new CgroupFs(_root), Pod + "/gone.scope", v1: false, problems);
        Assert.Equal(new CgroupMemory(Pod + "/gone.scope", null, null, null, null, null, null), memory);
        Assert.Contains(problems, p => p.Contains("vanished", StringComparison.Ordinal));
    }

    [Fact]
    public void A_process_in_the_tree_is_placed_with_the_scans_one_read_of_its_cgroup()
    {
        // A procfs of two processes of the same container: its files are read once for both.
        string proc = Directory.CreateTempSubdirectory("proc-").FullName;
        try
        {
            foreach (int pid in (int[])[10, 11])
            {
                Directory.CreateDirectory(Path.Combine(proc, pid.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                File.WriteAllText(Path.Combine(proc, pid.ToString(System.Globalization.CultureInfo.InvariantCulture), "cgroup"), $"0::{Container}\n");
            }

            using var files = new ProcessFiles(new ProcFs(proc));
            var reader = new ProcessCgroupReader(files, new CgroupFs(_root));
            reader.BeginScan();
            CgroupPlacement first = reader.Read(10, out string? problem);
            Assert.Null(problem);
            Write(Container, "memory.current", "1\n");
            CgroupPlacement second = reader.Read(11, out _);
            Assert.Same(first.Memory, second.Memory);
            Assert.Equal("containerd", second.Identity.ContainerRuntime);
            Assert.Equal("0b7632a2-a56e-4278-987a-22de18008dbe", second.Identity.PodUid);
            // No /proc/PID/ns/uts in a constructed procfs: no pod name, never a guess.
            Assert.Equal("", second.Pod);
            reader.BeginScan();
            Assert.Equal(1, reader.Read(11, out _).Memory!.UsageBytes);

            File.WriteAllText(Path.Combine(proc, "10", "cgroup"), "nonsense\n");
            CgroupPlacement unparsable = reader.Read(10, out problem);
            Assert.Same(CgroupPlacement.Unknown, unparsable);
            Assert.NotNull(problem);
            Assert.Throws<ProcessReadException>(() => reader.Read(12, out _));
            // A process without the file (a kernel without cgroups): nothing to place, nothing wrong.
            File.Delete(Path.Combine(proc, "11", "cgroup"));
            Assert.Same(CgroupPlacement.Unknown, reader.Read(11, out problem));
            Assert.Null(problem);
        }
        finally
        {
            Directory.Delete(proc, recursive: true);
        }
    }

    private void Cgroup(string path, string max)
    {
        Directory.CreateDirectory(_root + path);
        Write(path, "memory.max", max + "\n");
    }

    private void Write(string cgroup, string file, string text) => File.WriteAllText(Path.Combine(_root + cgroup, file), text);

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
