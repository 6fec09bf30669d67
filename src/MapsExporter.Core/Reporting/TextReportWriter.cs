using System.Globalization;
using MapsExporter.Core.Classifying;
using MapsExporter.Core.Classifying.Native;
using MapsExporter.Core.Parsing;
using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Core.Scanning;

namespace MapsExporter.Core.Reporting;

/// <summary>
/// The seed tool's (javaJniMemUsage.pl) layout, improved: unknown regions first, one line each; then each
/// category with its size groups (count, rss, vsz, and addresses for the reservations the seed listed); then
/// totals. A group is one unit: a stack with its guard, an arena heap with its PROT_NONE rest, else one mapping.
/// </summary>
public static class TextReportWriter
{
    private const int MaxAddressesListed = 64;

    private static readonly string[] Titles =
    [
        "Java heap", "Code cache", "Metaspace and class space", "CDS archive", "Thread stacks", "Main arena ([heap])",
        "libc arenas", "Shared libraries", "Mapped files", "Kernel mappings", "malloc's own mmaps", "GC tables", "Unknown",
    ];

    public static void Write(TextWriter output, MemoryReport report, ClassifiedRegions regions)
    {
        string who = report.Pid is { } pid ? $"Process {pid.ToString(CultureInfo.InvariantCulture)} ({report.App})" : $"Dump {report.Source} ({report.App})";
        output.WriteLine($"{who}{(report.IsJvm ? ", JVM" : "")}: {Count(report.Threads)} threads, {report.ThreadStacks} thread stacks, "
            + $"{report.LibcArenas} libc arenas in {report.LibcArenaHeaps} heaps, {report.Mappings} mappings; from {report.Source}");
        WriteCgroup(output, report);
        if (!report.ResidentKnown)
        {
            output.WriteLine("(maps only: resident, proportional and swap sizes are unknown)");
        }

        output.WriteLine();
        WriteUnknown(output, report, regions);
        foreach (RegionCategory category in RegionCategories.All)
        {
            if (category == RegionCategory.Unknown || report[category].Regions == 0)
            {
                continue;
            }

            WriteCategory(output, report, regions, category);
        }

        WriteExactFindings(output, report);
        CategoryTotals total = report.Total;
        output.WriteLine($"unknown rss = {Size(report[RegionCategory.Unknown].ResidentBytes)}, vsz = {Size(report[RegionCategory.Unknown].VirtualBytes)}");
        output.WriteLine($"sum rss = {Size(total.ResidentBytes)}, vsz = {Size(total.VirtualBytes)}, pss = {Size(total.ProportionalBytes)}, swap = {Size(total.SwapBytes)}");
    }

    /// <summary>Where the process lives (issue 15): cgroup, unit, container, pod; the limit that kills it and the headroom left.</summary>
    private static void WriteCgroup(TextWriter output, MemoryReport report)
    {
        if (report.Cgroup is not { } where)
        {
            return;
        }

        Cgroups.CgroupIdentity id = where.Identity;
        var parts = new List<string> { $"cgroup {(where.Path.Length > 0 ? where.Path : "?")}" };
        if (id.SystemdUnit.Length > 0)
        {
            parts.Add($"systemd unit {id.SystemdUnit}");
        }

        if (id.ContainerId.Length > 0)
        {
            parts.Add($"{(id.ContainerRuntime.Length > 0 ? id.ContainerRuntime + " " : "")}container {id.ContainerId}");
        }

        if (id.PodUid.Length > 0)
        {
            parts.Add($"pod {(where.Pod.Length > 0 ? where.Pod + " " : "")}uid {id.PodUid}{(id.QosClass.Length > 0 ? $" ({id.QosClass})" : "")}");
        }

        output.WriteLine($"Lives in {string.Join(", ", parts)}");
        if (where.Memory is not { } memory)
        {
            return;
        }

        string limit = memory.LimitBytes is { } l ? $"memory limit {Size(l)}{(memory.LimitCgroup is { } by ? $" (set by {by})" : "")}" : "no memory limit";
        string headroom = Cgroups.MemoryHeadroom.Of(report) is { } h
            ? $"; headroom {(h < 0 ? "-" + Size(-h) : Size(h))} = limit - heap max {Size(Cgroups.MemoryHeadroom.HeapMaxBytes(report))} - resident outside the heap {Size(Cgroups.MemoryHeadroom.NativeResidentBytes(report))}"
            : "";
        output.WriteLine($"  {limit}, usage {Size(memory.UsageBytes)} (anon {Size(memory.AnonBytes)}, file {Size(memory.FileBytes)}), OOM kills {(memory.OomKills?.ToString(CultureInfo.InvariantCulture) ?? "?")}{headroom}");
    }

    private static void WriteUnknown(TextWriter output, MemoryReport report, ClassifiedRegions regions)
    {
        if (report[RegionCategory.Unknown].Regions == 0)
        {
            return;
        }

        output.WriteLine("Unknown regions:");
        ReadOnlySpan<Mapping> items = regions.Items;
        for (int i = 0; i < items.Length; i++)
        {
            if (regions.CategoryOf(i) != RegionCategory.Unknown)
            {
                continue;
            }

            ref readonly Mapping m = ref items[i];
            string rss = m.ResidentBytes >= 0 ? $", rss {Size(m.ResidentBytes)}" : "";
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{m.Start,12:x} - {m.Size,12} ({Size((long)m.Size),10}), {PermissionsText.Format(m.Permissions)}{rss}{Path(regions, i)}"));
        }

        output.WriteLine();
    }

    private static void WriteCategory(TextWriter output, MemoryReport report, ClassifiedRegions regions, RegionCategory category)
    {
        CategoryTotals totals = report[category];
        output.WriteLine($"{Titles[(int)category]} ({category.Id()}) = rss {Size(totals.ResidentBytes)}, vsz {Size(totals.VirtualBytes)}, {totals.Regions} regions, by {report.Methods[(int)category].Id()}");

        // Units grouped by size, largest first.
        var groups = new SortedDictionary<ulong, (int Count, long Rss, ulong Vsz, List<ulong> Addresses)>(Comparer<ulong>.Create((a, b) => b.CompareTo(a)));
        ReadOnlySpan<Mapping> items = regions.Items;
        for (int i = 0; i < items.Length; i++)
        {
            if (regions.CategoryOf(i) != category)
            {
                continue;
            }

            int end = UnitEnd(items, regions, i, category);
            ulong size = items[end - 1].End - items[i].Start;
            // Only stacks and arenas are told by their size, as in the seed; other categories are one group.
            ulong key = category is RegionCategory.ThreadStack or RegionCategory.LibcArena ? size : 0;
            long rss = 0;
            for (int j = i; j < end; j++)
            {
                rss += Math.Max(items[j].ResidentBytes, 0);
            }

            if (!groups.TryGetValue(key, out var group))
            {
                group = (0, 0, 0, []);
            }

            group.Addresses.Add(items[i].Start);
            groups[key] = (group.Count + 1, group.Rss + rss, group.Vsz + size, group.Addresses);
            i = end - 1;
        }

        bool listAddresses = category is RegionCategory.JavaHeap or RegionCategory.LibcArena or RegionCategory.CodeCache
            or RegionCategory.Metaspace or RegionCategory.CdsArchive or RegionCategory.MainArena;
        foreach ((ulong size, var group) in groups)
        {
            if (size != 0)
            {
                output.WriteLine($"  {Size((long)size),10}");
            }

            output.WriteLine($"       count={group.Count}");
            if (listAddresses)
            {
                IEnumerable<string> addresses = group.Addresses.Take(MaxAddressesListed).Select(a => a.ToString("x", CultureInfo.InvariantCulture));
                string more = group.Addresses.Count > MaxAddressesListed ? $",... {group.Addresses.Count - MaxAddressesListed} more" : "";
                output.WriteLine($"        addr=[{string.Join(',', addresses)}{more}]");
            }

            if (report.ResidentKnown)
            {
                output.WriteLine($"         rss= {Size(group.Rss)}");
            }

            output.WriteLine($"         vsz= {Size((long)group.Vsz)}");
        }

        output.WriteLine();
    }

    private static void WriteExactFindings(TextWriter output, MemoryReport report)
    {
        if (report.Arenas.Count > 0)
        {
            output.WriteLine($"Arenas from their heap headers: {report.LibcArenas} in {report.LibcArenaHeaps} heaps, largest rss {Size(report.Arenas.Max(a => a.ResidentBytes))}");
            if (report.Malloc is { } malloc)
            {
                output.WriteLine($"  malloc ({report.Allocator.Id()}): system {Size(malloc.SystemBytes)}, in use {Size(malloc.InUseBytes)}, free {Size(malloc.FreeBytes)}, releasable {Size(malloc.ReleasableBytes)}; mmapped {Size(malloc.MmappedBytes)} in {malloc.MmappedChunks?.ToString(CultureInfo.InvariantCulture) ?? "?"} chunks");
            }

            // Largest first: by what glibc holds for it when read, else by its resident bytes.
            foreach (ArenaInfo arena in report.Arenas.OrderByDescending(a => a.SystemBytes ?? a.ResidentBytes))
            {
                string figures = arena.SystemBytes is null ? "" : $"  system= {Size(arena.SystemBytes)}  in use= {Size(arena.InUseBytes)}  free= {Size(arena.FreeBytes)}  releasable= {Size(arena.ReleasableBytes)}";
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {arena.Address,12:x}{(arena.Main ? " main" : "")}  heaps={arena.Heaps}  rss= {Size(arena.ResidentBytes)}  vsz= {Size(arena.VirtualBytes)}{figures}"));
            }

            output.WriteLine();
        }

        if (report.ThreadGroups.Count > 0)
        {
            output.WriteLine("Thread stacks by thread name:");
            foreach (var (group, stacks) in report.ThreadGroups.OrderByDescending(g => g.Value.ResidentBytes).ThenBy(g => g.Key, StringComparer.Ordinal))
            {
                output.WriteLine($"  {group,-24} threads={stacks.Threads,-4} rss= {Size(stacks.ResidentBytes),-10} vsz= {Size(stacks.VirtualBytes)}");
            }

            output.WriteLine();
        }

        if (report.Jvm is { } jvm)
        {
            output.WriteLine($"JVM {jvm.Version ?? "?"} ({jvm.Gc ?? "?"}): heap max {Size(jvm.HeapMaxBytes)}, committed {Size(jvm.HeapCommittedBytes)}, used {Size(jvm.HeapUsedBytes)} (hsperfdata)");
            output.WriteLine();
        }

        if (report.Fallbacks.Count > 0)
        {
            output.WriteLine($"Fell back to layout rules for: {string.Join(", ", report.Fallbacks.Order().Select(m => m.Id()))}");
            output.WriteLine();
        }
    }

    /// <summary>A stack ends after its read/write part; an arena heap starts at each read/write part; else one mapping.</summary>
    private static int UnitEnd(ReadOnlySpan<Mapping> items, ClassifiedRegions regions, int first, RegionCategory category)
    {
        int end = first + 1;
        if (category == RegionCategory.ThreadStack)
        {
            while (!items[end - 1].IsPrivateReadWrite && end < items.Length && regions.CategoryOf(end) == category && items[end].Start == items[end - 1].End)
            {
                end++;
            }
        }
        else if (category == RegionCategory.LibcArena)
        {
            while (end < items.Length && regions.CategoryOf(end) == category && items[end].Start == items[end - 1].End && items[end].IsNoAccess)
            {
                end++;
            }
        }

        return end;
    }

    private static string Path(ClassifiedRegions regions, int index) => regions.PathOf(index) is { } p ? ", " + AppNameResolver.Sanitize(p) : "";

    private static string Count(int? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "?";

    /// <summary>Sizes as the seed printed them: <c>1G 528M 244K</c>.</summary>
    public static string Size(long? bytes)
    {
        if (bytes is not { } b)
        {
            return "?";
        }

        if (b < 1024)
        {
            return b.ToString(CultureInfo.InvariantCulture) + "B";
        }

        long k = b / 1024;
        var parts = new List<string>(4);
        (long value, string unit)[] units = [(k >> 30, "T"), ((k >> 20) & 1023, "G"), ((k >> 10) & 1023, "M"), (k & 1023, "K")];
        foreach ((long value, string unit) in units)
        {
            if (value != 0)
            {
                parts.Add(value.ToString(CultureInfo.InvariantCulture) + unit);
            }
        }

        return parts.Count == 0 ? "0K" : string.Join(' ', parts);
    }
}
