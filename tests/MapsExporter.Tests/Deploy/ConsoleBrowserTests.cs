using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using MapsExporter.Tests.Daemon;
using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Deploy;

/// <summary>
/// The memory console as headless Chromium (Debian's package) renders it from the daemon on a real Kestrel listener:
/// a JVM whose direct buffers grow while the test watches, and the landing page with 200 processes (copies of a
/// captured /proc tree's JVM). DOM checks on the rendered page; screenshots left in the test output folder.
/// </summary>
public sealed partial class ConsoleBrowserTests
{
    /// <summary>Where the screenshots are left for a person to look at.</summary>
    public static string ArtifactDirectory => Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "artifacts")).FullName;

    [Fact]
    public async Task A_jvm_whose_direct_buffers_grow_shows_malloc_mmap_at_the_top_of_the_growth_table_and_in_the_chart()
    {
        // 1 MiB direct buffers, one every 250 ms, up to 120 (30 s): glibc mmaps each (malloc_mmap).
        using JavaWorkload jvm = JavaWorkload.Start(RepoPaths.Jdk17, ["-XX:+UseG1GC", "-Xmx128m"], 4, ["--grow-direct=120"]);
        string pid = jvm.Pid.ToString(CultureInfo.InvariantCulture);
        await using RunningDaemon daemon = await RunningDaemon.StartAsync("--scan.interval=1s", "--scan.smaps-interval=0s", "--scan.resident=smaps");
        long growth = await Poll.UntilAsync(
            async () => MallocMmapGrowth(await daemon.Http.GetStringAsync(new Uri($"/api/v1/processes/{pid}/history", UriKind.Relative))),
            g => g >= 16L << 20, TimeSpan.FromSeconds(60), "16 MiB of malloc_mmap growth in the history");

        string profile = Directory.CreateTempSubdirectory("mapsexporter-chromium-").FullName;
        try
        {
            var page = new Uri(daemon.Address, $"/process/{pid}");
            string dom = Chromium.Run(profile, "--dump-dom", page.ToString());
            // The growth table's first row is malloc_mmap, its change at least what the history showed before.
            Match first = Regex.Match(dom, "<table id=\"growth\">.*?<tbody>\\s*<tr data-category=\"(\\w+)\" data-change=\"(-?\\d*)\"", RegexOptions.Singleline);
            Assert.True(first.Success, $"no growth table in the rendered page:\n{dom}");
            Assert.Equal("malloc_mmap", first.Groups[1].Value);
            Assert.True(long.Parse(first.Groups[2].Value, CultureInfo.InvariantCulture) >= growth, $"{first.Groups[2].Value} < {growth}");
            // In the chart: a band of its own with a tooltip, named by a label; the heap maximum drawn as a line.
            Assert.Matches("<path class=\"band\" data-category=\"malloc_mmap\"[^>]*><title>malloc_mmap: resident now", dom);
            Assert.Matches("<text class=\"label\" data-for=\"malloc_mmap\"[^>]*>malloc_mmap \\d", dom);
            Assert.Contains($"data-line=\"heap-max\" data-bytes=\"{128L << 20}\"", dom, StringComparison.Ordinal);
            // Every figure of the tables explains itself.
            foreach (Match cell in Regex.Matches(dom, "<td[^>]*data-value=[^>]*>", RegexOptions.None))
            {
                Assert.Contains("title=\"", cell.Value, StringComparison.Ordinal);
            }

            Assert.Contains("<pre id=\"text-report\">Process " + pid + " (Workload), JVM", dom, StringComparison.Ordinal);
            // A JVM this small gets the full report (smaps: its resident sizes), as `report PID` prints it.
            Assert.Contains("read from smaps when this page was served", dom, StringComparison.Ordinal);
            Assert.DoesNotContain("(maps only: resident, proportional and swap sizes are unknown)", dom, StringComparison.Ordinal);
            Assert.Contains("<table id=\"arenas\">", dom, StringComparison.Ordinal);
            Assert.Contains("<table id=\"stacks\">", dom, StringComparison.Ordinal);
            Assert.Contains("<table id=\"jvm\">", dom, StringComparison.Ordinal);
            AssertNothingFromElsewhere(dom, daemon.Address);

            string screenshot = Path.Combine(ArtifactDirectory, "process-page.png");
            Chromium.Run(profile, $"--screenshot={screenshot}", "--window-size=1100,1600", page.ToString());
            Assert.True(new FileInfo(screenshot).Length > 10_000, "the screenshot is empty");
        }
        finally
        {
            Directory.Delete(profile, recursive: true);
        }
    }

    [Fact]
    public async Task The_landing_page_lists_200_processes_with_links_and_trends_and_sorts_by_growth_on_the_server()
    {
        string tree = Directory.CreateTempSubdirectory("mapsexporter-200-").FullName;
        string profile = Directory.CreateTempSubdirectory("mapsexporter-chromium-").FullName;
        try
        {
            string[] pids = ManyProcesses(tree, 200);
            await using RunningDaemon daemon = await RunningDaemon.StartAsync(
                $"--path.procfs={tree}", $"--path.sysfs={Path.Combine(RepoPaths.Fixtures, "procfs", "sysfs")}", "--scan.interval=2s", "--scan.smaps-interval=0s", "--scan.resident=smaps");
            await Poll.UntilAsync(() => ListAsync(daemon), l => l.Count == 200 && l.All(p => p.Samples >= 2), TimeSpan.FromSeconds(60), "200 processes with two scans each");

            // One process grows: its smaps now is that of a captured JVM with 300 threads and more resident.
            string grower = pids[123];
            File.Copy(RepoPaths.Fixture("jdk17-g1-t300-native-churn", "smaps"), Path.Combine(tree, grower, "smaps"), overwrite: true);
            File.Copy(RepoPaths.Fixture("jdk17-g1-t300-native-churn", "maps"), Path.Combine(tree, grower, "maps"), overwrite: true);
            await Poll.UntilAsync(() => ListAsync(daemon), l => l.Single(p => p.Pid == grower).Growth > 0, TimeSpan.FromSeconds(60), "the grower's growth");

            // Small enough to load at once: sparklines are capped at 60 points, so a full hour adds little to this.
            string raw = await daemon.Http.GetStringAsync(new Uri("/", UriKind.Relative));
            Assert.True(raw.Length < 1_000_000, $"the page of 200 processes is {raw.Length} bytes");
            File.WriteAllText(Path.Combine(ArtifactDirectory, "landing-200.size"), raw.Length.ToString(CultureInfo.InvariantCulture));
            string bySize = Chromium.Run(profile, "--dump-dom", daemon.Address.ToString());
            string[] bars = [.. Bar().Matches(bySize).Select(m => m.Groups[1].Value)];
            Assert.Equal(200, bars.Length);
            Assert.Equal(pids.Order(StringComparer.Ordinal), bars.Order(StringComparer.Ordinal));
            Assert.Equal(200, Regex.Count(bySize, "<svg class=\"spark\" data-pid=\"\\d+\""));
            foreach (string pid in pids)
            {
                Assert.Contains($"<a href=\"process/{pid}\">{pid}</a>", bySize, StringComparison.Ordinal);
            }

            // Largest first: the grower is the largest too; the rest are copies, in PID order.
            Assert.Equal([grower, .. pids.Where(p => p != grower)], bars);
            AssertNothingFromElsewhere(bySize, daemon.Address);

            // By growth: the grower first, the rest (no growth) after it.
            string byGrowth = Chromium.Run(profile, "--dump-dom", new Uri(daemon.Address, "/?sort=growth").ToString());
            Assert.Equal(grower, Bar().Match(byGrowth).Groups[1].Value);
            Assert.Contains("Sorted by growth", byGrowth, StringComparison.Ordinal);

            // A linked page opens: the process page of one of the 200.
            string processPage = Chromium.Run(profile, "--dump-dom", new Uri(daemon.Address, $"/process/{pids[7]}").ToString());
            Assert.Contains("<table id=\"growth\">", processPage, StringComparison.Ordinal);
            Chromium.Run(profile, $"--screenshot={Path.Combine(ArtifactDirectory, "landing-200.png")}", "--window-size=1280,1600", new Uri(daemon.Address, "/?sort=growth").ToString());
        }
        finally
        {
            Directory.Delete(profile, recursive: true);
            Directory.Delete(tree, recursive: true);
        }
    }

    /// <summary>No src or href to anything but this daemon (no external script, style, font or image), no other URL at all.</summary>
    private static void AssertNothingFromElsewhere(string dom, Uri daemon)
    {
        Assert.DoesNotContain("https://", dom, StringComparison.Ordinal);
        Assert.DoesNotContain("http://", dom.Replace(daemon.GetLeftPart(UriPartial.Authority), "", StringComparison.Ordinal), StringComparison.Ordinal);
        foreach (Match link in Regex.Matches(dom, "(?:src|href)=\"([^\"]*)\""))
        {
            string target = link.Groups[1].Value;
            bool local = !target.Contains("//", StringComparison.Ordinal) || target.StartsWith(daemon.GetLeftPart(UriPartial.Authority), StringComparison.Ordinal);
            Assert.True(local, $"the page loads or links {target}");
        }
    }

    /// <summary>A /proc tree of <paramref name="count"/> copies of the captured tree's JDK 17 JVM, PIDs 30000 and up.</summary>
    private static string[] ManyProcesses(string tree, int count)
    {
        string source = Path.Combine(RepoPaths.Fixtures, "procfs", "tree");
        File.Copy(Path.Combine(source, "stat"), Path.Combine(tree, "stat"));
        Directory.CreateDirectory(Path.Combine(tree, "sys", "vm"));
        File.Copy(Path.Combine(source, "sys", "vm", "max_map_count"), Path.Combine(tree, "sys", "vm", "max_map_count"));
        var pids = new string[count];
        for (int i = 0; i < count; i++)
        {
            pids[i] = (30000 + i).ToString(CultureInfo.InvariantCulture);
            string dir = Path.Combine(tree, pids[i]);
            CopyDirectory(Path.Combine(source, "25848"), dir);
            string stat = File.ReadAllText(Path.Combine(dir, "stat"));
            File.WriteAllText(Path.Combine(dir, "stat"), pids[i] + stat[stat.IndexOf(' ', StringComparison.Ordinal)..]);
        }

        return pids;
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.EnumerateFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }

        foreach (string dir in Directory.EnumerateDirectories(from))
        {
            CopyDirectory(dir, Path.Combine(to, Path.GetFileName(dir)));
        }
    }

    private static async Task<List<(string Pid, int Samples, long Growth)>> ListAsync(RunningDaemon daemon)
    {
        using JsonDocument list = JsonDocument.Parse(await daemon.Http.GetStringAsync(new Uri("/api/v1/processes", UriKind.Relative)));
        return [.. list.RootElement.GetProperty("processes").EnumerateArray().Select(p => (
            p.GetProperty("pid").GetInt32().ToString(CultureInfo.InvariantCulture),
            p.GetProperty("history_samples").GetInt32(),
            p.GetProperty("resident_growth_bytes").ValueKind == JsonValueKind.Number ? p.GetProperty("resident_growth_bytes").GetInt64() : 0))];
    }

    private static long MallocMmapGrowth(string history)
    {
        using JsonDocument doc = JsonDocument.Parse(history);
        long[] values = [.. doc.RootElement.GetProperty("resident_bytes_by_category").GetProperty("malloc_mmap").EnumerateArray().Select(v => v.GetInt64())];
        return values.Length < 2 ? 0 : values[^1] - values[0];
    }

    [GeneratedRegex("<div class=\"jvm\" data-pid=\"(\\d+)\">")]
    private static partial Regex Bar();
}
