using MapsExporter.Core.Classifying;
using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Core.Proc;
using MapsExporter.Core.Reporting;
using MapsExporter.Core.Scanning;
using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Integration;

/// <summary>
/// JDK 17's ZGC maps its heap memfd three times (marked0, marked1, remapped); a page is in the page table of
/// each view that touched it, so no one view holds them all and Rss counts a page once per view. The oracle is
/// the page frames themselves: /proc/PID/pagemap, distinct frames over every view of the memfd.
/// </summary>
public sealed class ZgcViewResidentTests
{
    [Theory]
    [InlineData("-Xmx1g", 600)]
    [InlineData("-Xmx2g", 1500)]
    public void Heap_pages_count_once_whichever_views_touched_them(string xmx, int churnMb)
    {
        using JavaWorkload jvm = JavaWorkload.Start(RepoPaths.Jdk17, ["-XX:+UseZGC", xmx], 10, [$"--heap-churn={churnMb}"]);
        using var inspector = new ProcessInspector(new ProcFs());
        // Every read of the JVM while it is stopped: after churning its heap ZGC may still be relocating or
        // uncommitting, and pages that move between the smaps read and the pagemap read are counted by one of them
        // only (once 40 KB outside the tolerance in a full run).
        using var stopped = new StoppedProcess(jvm.Pid);
        InspectionResult result = inspector.Inspect(jvm.Pid, keepRegions: true);
        (MemoryReport report, ClassifiedRegions regions) = (result.Report, result.Regions!);

        var views = new List<(ulong Start, ulong End)>();
        long viewRss = 0;
        ReadOnlySpan<Mapping> items = regions.Items;
        for (int i = 0; i < items.Length; i++)
        {
            if (regions.PathOf(i)?.StartsWith("/memfd:java_heap", StringComparison.Ordinal) == true)
            {
                views.Add((items[i].Start, items[i].End));
                viewRss += items[i].ResidentBytes;
            }
        }

        long distinct = PageMap.DistinctResidentBytes(jvm.Pid, views);
        long heapElsewhere = 0;
        for (int i = 0; i < items.Length; i++)
        {
            if (regions.CategoryOf(i) == RegionCategory.JavaHeap && regions.PathOf(i)?.StartsWith("/memfd:java_heap", StringComparison.Ordinal) != true)
            {
                heapElsewhere += items[i].ResidentBytes;
            }
        }

        // Three views, and some page in more than one of them (else there is nothing to count once).
        Assert.True(views.Count >= 3, $"{views.Count} views");
        Assert.True(viewRss > distinct + (1 << 20), $"views' Rss {viewRss}, distinct {distinct}");

        // smaps gives each mapping's Pss in whole KiB (under 1 KiB of rounding per view mapping; 4 KiB allowed), and a
        // page the kernel migrates meanwhile (0.05%). Counting the view that holds the most pages instead was 0.05-0.6% short here.
        long tolerance = (4096 * views.Count) + (distinct / 2000);
        long heap = report[RegionCategory.JavaHeap].ResidentBytes!.Value - heapElsewhere;
        Assert.InRange(heap, distinct - tolerance, distinct + tolerance);

        // The whole process: the kernel's Rss less what it counts again for pages in more than one view.
        long rollupRss = SmapsRollup(jvm.Pid, "Rss:");
        long expected = rollupRss - (viewRss - distinct);
        long total = report.Total.ResidentBytes!.Value;
        Assert.InRange(total, expected - tolerance, expected + tolerance);
        Assert.True(total >= SmapsRollup(jvm.Pid, "Pss:"), $"total {total} below the process's Pss");
    }

    private static long SmapsRollup(int pid, string key)
    {
        foreach (string line in File.ReadLines($"/proc/{pid}/smaps_rollup"))
        {
            if (line.StartsWith(key, StringComparison.Ordinal))
            {
                return long.Parse(line[key.Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException($"no {key} in smaps_rollup");
    }
}
