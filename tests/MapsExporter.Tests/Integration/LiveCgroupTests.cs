using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using MapsExporter.Core.Cgroups;
using MapsExporter.Core.Classifying;
using MapsExporter.Core.Proc;
using MapsExporter.Core.Reporting;
using MapsExporter.Core.Scanning;
using MapsExporter.Metrics;
using MapsExporter.Tests.Daemon;
using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Integration;

/// <summary>
/// Real JVMs in real v1 memory cgroups made below the test's own (TestCgroups), named as a systemd unit and as
/// Kubernetes containers of each QoS class (cgroupfs and systemd driver forms), with limits on the child and on a
/// parent: every label, the effective limit and who sets it, usage, headroom, and the JVM's own MaxHeapSize
/// (no -Xmx: limit × MaxRAMPercentage) as the cross-check that the exporter's limit is the JVM's.
/// </summary>
public sealed partial class LiveCgroupTests
{
    private const long MiB = 1L << 20;

    [Fact]
    public async Task Jvms_in_units_and_pods_of_each_qos_get_their_labels_limits_and_headroom()
    {
        using var cgroups = new TestCgroups();
        string unit = cgroups.Make("system.slice/shop.service");
        string burstablePod = cgroups.Make($"kubepods/burstable/pod{Uid(out string burstableUid)}");
        string burstable = cgroups.Make($"kubepods/burstable/pod{burstableUid}/{Id(out string burstableId)}");
        string bestEffort = cgroups.Make($"kubepods/besteffort/pod{Uid(out string bestEffortUid)}/{Id(out string bestEffortId)}");
        string guaranteed = cgroups.Make($"kubepods/pod{Uid(out string guaranteedUid)}/{Id(out string guaranteedId)}");
        string systemdUid = Guid.NewGuid().ToString();
        string systemdPod = $"kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{systemdUid.Replace('-', '_')}.slice";
        string systemd = cgroups.Make($"{systemdPod}/cri-containerd-{Id(out string systemdId)}.scope");
        // The test's cgroup limits everything below it; the burstable pod's limit is below its container's own.
        cgroups.Limit(cgroups.Path, 768 * MiB);
        cgroups.Limit(burstablePod, 384 * MiB);
        cgroups.Limit(burstable, 512 * MiB);
        cgroups.Limit(guaranteed, 256 * MiB);
        cgroups.Limit(systemd, 320 * MiB);

        // JvmLimit: what JDK 17 sizes its heap from. On v1 it takes the cgroup's own limit when it has one, and the
        // hierarchical (ancestors') limit only when it has none (cgroupV1Subsystem_linux.cpp); the lower limit of the
        // burstable pod above its container is the kernel's, which JDK 24+ also finds (JDK-8322420's walk), checked below.
        var cases = new (string Cgroup, long Limit, string SetBy, string Runtime, string ContainerId, string PodUid, string Qos, string Unit, long JvmLimit)[]
        {
            (unit, 768 * MiB, cgroups.Path, "", "", "", "", "shop.service", 768 * MiB),
            (burstable, 384 * MiB, burstablePod, "", burstableId, burstableUid, "Burstable", "", 512 * MiB),
            (bestEffort, 768 * MiB, cgroups.Path, "", bestEffortId, bestEffortUid, "BestEffort", "", 768 * MiB),
            (guaranteed, 256 * MiB, guaranteed, "", guaranteedId, guaranteedUid, "Guaranteed", "", 256 * MiB),
            (systemd, 320 * MiB, systemd, "containerd", systemdId, systemdUid, "Burstable", "", 320 * MiB),
        };
        var jvms = new List<JavaWorkload>();
        try
        {
            foreach (var c in cases)
            {
                jvms.Add(JavaWorkload.Start(RepoPaths.Jdk17, ["-XX:MaxRAMPercentage=50"], 2, environment: new Dictionary<string, string> { ["MAPSEXPORTER_CGROUP_PROCS"] = TestCgroups.Procs(c.Cgroup) }));
            }

            using var inspector = new ProcessInspector(new ProcFs(), cgroupFs: new CgroupFs());
            var samples = new List<ProcessSample>();
            for (int i = 0; i < cases.Length; i++)
            {
                var c = cases[i];
                JavaWorkload jvm = jvms[i];
                InspectionResult result = inspector.Inspect(jvm.Pid, keepRegions: true);
                Assert.Null(result.CgroupProblem);
                MemoryReport report = result.Report;
                CgroupPlacement where = report.Cgroup!;
                Assert.Equal(c.Cgroup, where.Path);
                Assert.Equal(new CgroupIdentity(c.Unit, c.Runtime, c.ContainerId, c.PodUid, c.Qos, false), where.Identity);
                // The JVMs share the host's UTS namespace: no pod name, whatever their cgroup says.
                Assert.Equal("", where.Pod);
                CgroupMemory memory = where.Memory!;
                Assert.Equal(c.Limit, memory.LimitBytes);
                Assert.Equal(c.SetBy, memory.LimitCgroup);
                Assert.Equal(0, memory.OomKills);
                // Every page the JVM touched since it moved in is charged here: at least its anonymous resident memory's bulk.
                Assert.InRange(memory.UsageBytes!.Value, 8 * MiB, c.Limit);
                Assert.InRange(memory.AnonBytes!.Value, 4 * MiB, memory.UsageBytes.Value);
                Assert.NotNull(memory.FileBytes);

                // The JVM's own view: MaxHeapSize from its effective limit (≥ 250 MiB: MaxRAMPercentage applies, not MinRAMPercentage).
                long maxHeap = MaxHeapSize(jvm);
                Assert.Equal(c.JvmLimit / 2, maxHeap);
                Assert.Equal(maxHeap, MemoryHeadroom.HeapMaxBytes(report));
                long native = report.Total.ResidentBytes!.Value - report[RegionCategory.JavaHeap].ResidentBytes!.Value;
                Assert.Equal(c.Limit - (maxHeap + native), MemoryHeadroom.Of(report));
                samples.Add(new ProcessSample(report, 1, 1, "17") { Totals = result.Totals });

                // The text report names where the process lives, its limit and who sets it, and its headroom.
                using var text = new StringWriter();
                TextReportWriter.Write(text, report, result.Regions!);
                string lives = text.ToString().Split('\n')[1];
                Assert.StartsWith($"Lives in cgroup {c.Cgroup}", lives, StringComparison.Ordinal);
                Assert.Contains(c.Unit.Length > 0 ? $"systemd unit {c.Unit}" : $"pod uid {c.PodUid} ({c.Qos})", lives, StringComparison.Ordinal);
                Assert.Contains($"memory limit {TextReportWriter.Size(c.Limit)} (set by {c.SetBy})", text.ToString(), StringComparison.Ordinal);
                Assert.Contains($"headroom {TextReportWriter.Size(MemoryHeadroom.Of(report))} = limit - heap max {TextReportWriter.Size(maxHeap)}", text.ToString(), StringComparison.Ordinal);
            }

            // JDK 25 walks the ancestors as the exporter does: the burstable pod's 384 MiB, not its container's 512 MiB.
            using (JavaWorkload jdk25 = JavaWorkload.Start(RepoPaths.Jdk25, ["-XX:MaxRAMPercentage=50"], 2, environment: new Dictionary<string, string> { ["MAPSEXPORTER_CGROUP_PROCS"] = TestCgroups.Procs(burstable) }))
            {
                Assert.Equal(384 * MiB / 2, MaxHeapSize(jdk25));
                Assert.Equal(384 * MiB, inspector.Inspect(jdk25.Pid).Report.Cgroup!.Memory!.LimitBytes);
            }

            using var publisher = new MetricsPublisher();
            publisher.Publish(new ScanSnapshot(DateTimeOffset.UtcNow, TimeSpan.Zero, true, null, samples, [], [], null), hostCpus: 2);
            MetricsScrape scrape = await PublisherTests.Scrape(publisher);
            for (int i = 0; i < cases.Length; i++)
            {
                var c = cases[i];
                string pid = $"pid={jvms[i].Pid}";
                Assert.Equal(1, scrape.Value("mapsexporter_process_cgroup_info", pid, $"cgroup={c.Cgroup}", $"systemd_unit={c.Unit}", $"container_runtime={c.Runtime}", $"container_id={c.ContainerId}", $"pod_uid={c.PodUid}", $"qos_class={c.Qos}", "pod="));
                Assert.Equal(c.Limit, scrape.Value("mapsexporter_cgroup_memory_limit_bytes", $"cgroup={c.Cgroup}"));
                Assert.Equal(samples[i].Report.Cgroup!.Memory!.UsageBytes, (long)scrape.Value("mapsexporter_cgroup_memory_usage_bytes", $"cgroup={c.Cgroup}"));
                Assert.Equal(MemoryHeadroom.Of(samples[i].Report), (long)scrape.Value("mapsexporter_process_memory_headroom_bytes", pid));
                Assert.Equal(0, scrape.Value("mapsexporter_cgroup_oom_kills_total", $"cgroup={c.Cgroup}"));
            }
        }
        finally
        {
            jvms.ForEach(j => j.Dispose());
        }
    }

    [Fact]
    public async Task An_oom_kill_in_a_child_cgroup_raises_its_counter()
    {
        using var cgroups = new TestCgroups();
        string service = cgroups.Make("system.slice/hog.service");
        cgroups.Limit(service, 32 * MiB);
        string hog = CompileHog();
        using Process resident = StartIn(TestCgroups.Procs(service), "/bin/sleep", "300");
        try
        {
            using var files = new ProcessFiles(new ProcFs());
            var reader = new ProcessCgroupReader(files, new CgroupFs());
            using var publisher = new MetricsPublisher();
            await PublishAndCheck(reader, publisher, resident.Id, service, expectedKills: 0);

            using Process killed = StartIn(TestCgroups.Procs(service), hog);
            Assert.True(killed.WaitForExit(60_000), "the hog did not end");
            // SIGKILL from the memcg OOM killer (128 + 9).
            Assert.Equal(137, killed.ExitCode);
            await PublishAndCheck(reader, publisher, resident.Id, service, expectedKills: 1);
        }
        finally
        {
            resident.Kill();
            resident.WaitForExit();
        }
    }

    [Fact]
    public void A_process_with_its_own_uts_namespace_gets_its_hostname_as_pod_only_in_a_pod_cgroup()
    {
        using var cgroups = new TestCgroups();
        string pod = cgroups.Make($"kubepods/burstable/pod{Uid(out _)}/{Id(out _)}");
        string service = cgroups.Make("system.slice/own-uts.service");
        using Process inPod = StartInNamespaces(TestCgroups.Procs(pod), "shop-7d9f8c6b5-x2x4q");
        using Process inService = StartInNamespaces(TestCgroups.Procs(service), "not-a-pod");
        try
        {
            using var files = new ProcessFiles(new ProcFs());
            var reader = new ProcessCgroupReader(files, new CgroupFs());
            reader.BeginScan();
            Assert.Equal("shop-7d9f8c6b5-x2x4q", reader.Read(inPod.Id, out string? problem).Pod);
            Assert.Null(problem);
            CgroupPlacement notPod = reader.Read(inService.Id, out _);
            Assert.Equal("", notPod.Pod);
            Assert.Equal("own-uts.service", notPod.Identity.SystemdUnit);
            // Ours (the host's UTS namespace) in no pod: empty too.
            Assert.Equal("", reader.Read(Environment.ProcessId, out _).Pod);
        }
        finally
        {
            foreach (Process p in (Process[])[inPod, inService])
            {
                p.Kill();
                p.WaitForExit();
            }
        }
    }

    [Fact]
    public void A_reader_in_a_private_cgroup_namespace_resolves_another_cgroups_relative_path()
    {
        // The reader (the report command) runs under unshare --cgroup, rooted at a cgroup beside the JVM's, as a
        // DaemonSet's container is on a v2 containerd node: the JVM's /proc/PID/cgroup reads /../jvm/... there.
        using var cgroups = new TestCgroups();
        string reader = cgroups.Make("reader");
        string pod = cgroups.Make($"jvm/kubepods/besteffort/pod{Uid(out string uid)}/{Id(out string id)}");
        cgroups.Limit(pod, 512 * MiB);
        using JavaWorkload jvm = JavaWorkload.Start(RepoPaths.Jdk17, [], 2, environment: new Dictionary<string, string> { ["MAPSEXPORTER_CGROUP_PROCS"] = TestCgroups.Procs(pod) });
        string pid = jvm.Pid.ToString(CultureInfo.InvariantCulture);
        string dll = Path.Combine(AppContext.BaseDirectory, "mapsexporter.dll");
        string script = "echo $$ >\"$0\" || exit 1; exec unshare --cgroup sh -c 'cat /proc/$1/cgroup >&2; exec dotnet \"$2\" report \"$1\" --format json' sh \"$1\" \"$2\"";
        var (code, stdout, stderr) = ToolRunner.Run("/bin/sh", ["-c", script, TestCgroups.Procs(reader), pid, dll]);
        Assert.True(code == 0, stderr);
        // What the namespace shows: relative to the reader's root.
        Assert.Contains($"memory:/../jvm/kubepods/besteffort/pod{uid}/{id}", stderr, StringComparison.Ordinal);
        using var json = System.Text.Json.JsonDocument.Parse(stdout);
        System.Text.Json.JsonElement cgroup = json.RootElement.GetProperty("cgroup");
        Assert.Equal(pod, cgroup.GetProperty("path").GetString());
        Assert.Equal(id, cgroup.GetProperty("container_id").GetString());
        Assert.Equal(uid, cgroup.GetProperty("pod_uid").GetString());
        Assert.Equal("BestEffort", cgroup.GetProperty("qos_class").GetString());
        Assert.Equal(512 * MiB, cgroup.GetProperty("memory_limit_bytes").GetInt64());
        Assert.Equal(pod, cgroup.GetProperty("memory_limit_cgroup").GetString());
    }

    private static async Task PublishAndCheck(ProcessCgroupReader reader, MetricsPublisher publisher, int pid, string cgroup, long expectedKills)
    {
        reader.BeginScan();
        CgroupPlacement where = reader.Read(pid, out string? problem);
        Assert.Null(problem);
        Assert.Equal(expectedKills, where.Memory!.OomKills);
        Assert.Equal(32 * MiB, where.Memory.LimitBytes);
        var report = new MemoryReport(Enumerable.Repeat(CategoryTotals.Empty(true), RegionCategories.Count).ToArray()) { Pid = pid, App = "sleep", Source = "test", Cgroup = where };
        publisher.Publish(new ScanSnapshot(DateTimeOffset.UtcNow, TimeSpan.Zero, true, null, [new ProcessSample(report, 1, 1, null)], [], [], null), hostCpus: 2);
        Assert.Equal(expectedKills, (await PublisherTests.Scrape(publisher)).Value("mapsexporter_cgroup_oom_kills_total", $"cgroup={cgroup}"));
    }

    private static string Uid(out string uid) => uid = Guid.NewGuid().ToString();

    private static string Id(out string id) => id = Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N");

    private static long MaxHeapSize(JavaWorkload jvm)
    {
        var (code, stdout, stderr) = ToolRunner.Run(Path.Combine(jvm.Jdk, "bin", "jcmd"), [jvm.Pid.ToString(CultureInfo.InvariantCulture), "VM.flags"]);
        Assert.True(code == 0, stderr);
        return long.Parse(MaxHeapSizeFlag().Match(stdout).Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex("-XX:MaxHeapSize=([0-9]+)")]
    private static partial Regex MaxHeapSizeFlag();

    /// <summary>A process started by the test that moves itself into the cgroup of <paramref name="procs"/>, then execs the program.</summary>
    private static Process StartIn(string procs, string program, params string[] args)
    {
        var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("echo $$ >\"$0\" || exit 1; shift; exec \"$@\"");
        info.ArgumentList.Add(procs);
        info.ArgumentList.Add("sh");
        info.ArgumentList.Add(program);
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        Process process = Process.Start(info)!;
        WaitUntil(() => File.ReadAllLines(procs).Contains(process.Id.ToString(CultureInfo.InvariantCulture)) || process.HasExited);
        return process;
    }

    /// <summary>A sleep in its own UTS and mount namespaces (unshare, util-linux) whose /etc/hostname is a bind-mounted file holding <paramref name="hostname"/>, as a container's is.</summary>
    private static Process StartInNamespaces(string procs, string hostname)
    {
        string file = Path.Combine(Directory.CreateTempSubdirectory("mapsexporter-hostname-").FullName, "hostname");
        File.WriteAllText(file, hostname + "\n");
        Process process = StartIn(procs, "/usr/bin/unshare", "--uts", "--mount", "/bin/sh", "-c", "hostname \"$0\" && mount --bind \"$1\" /etc/hostname && exec sleep 300", hostname, file);
        WaitUntil(() => process.HasExited || (File.Exists($"/proc/{process.Id}/root/etc/hostname") && File.ReadAllText($"/proc/{process.Id}/root/etc/hostname").Trim() == hostname && File.ReadAllText($"/proc/{process.Id}/comm").Trim() == "sleep"));
        Assert.False(process.HasExited, "unshare failed");
        return process;
    }

    private static void WaitUntil(Func<bool> condition)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), "timed out waiting");
            Thread.Sleep(20);
        }
    }

    /// <summary>A C program that touches memory a megabyte at a time until the kernel kills it.</summary>
    private static string CompileHog()
    {
        string dir = Directory.CreateTempSubdirectory("mapsexporter-hog-").FullName;
        File.WriteAllText(Path.Combine(dir, "hog.c"), """
            #include <stdlib.h>
            #include <string.h>
            int main(void) {
                for (int i = 0; i < 4096; i++) {
                    char *p = malloc(1 << 20);
                    if (p == NULL) return 2;
                    memset(p, 1, 1 << 20);
                }
                return 3;
            }
            """);
        var (code, _, stderr) = ToolRunner.Run("gcc", ["-O0", "-o", Path.Combine(dir, "hog"), Path.Combine(dir, "hog.c")]);
        Assert.True(code == 0, stderr);
        return Path.Combine(dir, "hog");
    }
}
