using System.Text.Json;
using MapsExporter.Core.Classifying;
using MapsExporter.Core.Classifying.Native;
using MapsExporter.Core.Scanning;

namespace MapsExporter.Core.Reporting;

/// <summary>
/// The report as JSON: <c>{"pid", "app", "threads", "thread_stacks", "libc_arenas", "categories": {id: totals}, "total"}</c>,
/// every category present, bytes as integers, unknown figures (a maps dump's resident sizes, a dump's threads) as null.
/// </summary>
public static class JsonReportWriter
{
    public static void Write(Utf8JsonWriter json, MemoryReport report)
    {
        json.WriteStartObject();
        WriteNullable(json, "pid", report.Pid);
        json.WriteString("app", report.App);
        WriteNullable(json, "threads", report.Threads);
        json.WriteNumber("thread_stacks", report.ThreadStacks);
        json.WriteNumber("libc_arenas", report.LibcArenas);
        json.WriteNumber("libc_arena_heaps", report.LibcArenaHeaps);
        json.WriteNumber("mappings", report.Mappings);
        // Here too for reports without a "malloc" object (dumps, unreadable memory).
        json.WriteString("allocator", report.Allocator.Id());
        json.WriteStartObject("categories");
        foreach (RegionCategory category in RegionCategories.All)
        {
            json.WritePropertyName(category.Id());
            WriteTotals(json, report[category], report.ResidentSourceOf(category));
        }

        json.WriteEndObject();
        json.WritePropertyName("total");
        WriteTotals(json, report.Total, report.ResidentSourceOf(null));
        WriteExactFindings(json, report);
        WriteCgroup(json, report);
        json.WriteEndObject();
    }

    /// <summary>Where the process lives and its memory cgroup's figures (issue 15); null where unknown, not applying or unlimited.</summary>
    private static void WriteCgroup(Utf8JsonWriter json, MemoryReport report)
    {
        if (report.Cgroup is not { } where)
        {
            json.WriteNull("cgroup");
            return;
        }

        static string? OrNull(string value) => value.Length == 0 ? null : value;
        json.WriteStartObject("cgroup");
        WriteNullable(json, "path", OrNull(where.Path));
        WriteNullable(json, "systemd_unit", OrNull(where.Identity.SystemdUnit));
        WriteNullable(json, "container_runtime", OrNull(where.Identity.ContainerRuntime));
        WriteNullable(json, "container_id", OrNull(where.Identity.ContainerId));
        WriteNullable(json, "pod_uid", OrNull(where.Identity.PodUid));
        WriteNullable(json, "qos_class", OrNull(where.Identity.QosClass));
        WriteNullable(json, "pod", OrNull(where.Pod));
        WriteNullable(json, "memory_limit_bytes", where.Memory?.LimitBytes);
        WriteNullable(json, "memory_limit_cgroup", where.Memory?.LimitCgroup);
        WriteNullable(json, "memory_usage_bytes", where.Memory?.UsageBytes);
        WriteNullable(json, "memory_anon_bytes", where.Memory?.AnonBytes);
        WriteNullable(json, "memory_file_bytes", where.Memory?.FileBytes);
        WriteNullable(json, "oom_kills", where.Memory?.OomKills);
        json.WriteEndObject();
    }

    /// <summary>What the exact methods found: arenas, stacks by thread group, the JVM's own figures, and how each category was decided.</summary>
    private static void WriteExactFindings(Utf8JsonWriter json, MemoryReport report)
    {
        json.WriteStartArray("arenas");
        foreach (ArenaInfo arena in report.Arenas)
        {
            json.WriteStartObject();
            json.WriteString("address", "0x" + arena.Address.ToString("x", System.Globalization.CultureInfo.InvariantCulture));
            json.WriteNumber("heaps", arena.Heaps);
            json.WriteNumber("virtual_bytes", arena.VirtualBytes);
            WriteNullable(json, "resident_bytes", report.ResidentKnown ? arena.ResidentBytes : null);
            json.WriteBoolean("main", arena.Main);
            WriteNullable(json, "system_bytes", arena.SystemBytes);
            WriteNullable(json, "in_use_bytes", arena.InUseBytes);
            WriteNullable(json, "free_bytes", arena.FreeBytes);
            WriteNullable(json, "releasable_bytes", arena.ReleasableBytes);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        WriteMalloc(json, report.Malloc, report.Allocator);
        json.WriteStartObject("thread_groups");
        foreach (var (group, stacks) in report.ThreadGroups.OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            json.WriteStartObject(group);
            json.WriteNumber("threads", stacks.Threads);
            json.WriteNumber("virtual_bytes", stacks.VirtualBytes);
            json.WriteNumber("resident_bytes", stacks.ResidentBytes);
            json.WriteEndObject();
        }

        json.WriteEndObject();
        if (report.Jvm is { } jvm)
        {
            json.WriteStartObject("jvm");
            WriteNullable(json, "version", jvm.Version);
            WriteNullable(json, "gc", jvm.Gc);
            WriteNullable(json, "heap_max_bytes", jvm.HeapMaxBytes);
            WriteNullable(json, "heap_committed_bytes", jvm.HeapCommittedBytes);
            WriteNullable(json, "heap_used_bytes", jvm.HeapUsedBytes);
            WriteNullable(json, "metaspace_max_bytes", jvm.MetaspaceMaxBytes);
            json.WriteEndObject();
        }
        else
        {
            json.WriteNull("jvm");
        }

        json.WriteStartObject("methods");
        foreach (RegionCategory category in RegionCategories.All)
        {
            json.WriteString(category.Id(), report.Methods[(int)category].Id());
        }

        json.WriteEndObject();
        json.WriteStartArray("fallbacks");
        foreach (DecisionMethod method in report.Fallbacks.Order())
        {
            json.WriteStringValue(method.Id());
        }

        json.WriteEndArray();
    }

    /// <summary><c>"malloc"</c>: the arenas' sums and mp_'s mmapped chunks; null when the process's memory was not read.</summary>
    private static void WriteMalloc(Utf8JsonWriter json, MallocSummary? malloc, NativeAllocator allocator)
    {
        if (malloc is null)
        {
            json.WriteNull("malloc");
            return;
        }

        json.WriteStartObject("malloc");
        // AllocatorDetector's name (the one on process_info), not only what the arena reader could tell.
        json.WriteString("allocator", allocator.Id());
        WriteNullable(json, "system_bytes", malloc.SystemBytes);
        WriteNullable(json, "in_use_bytes", malloc.InUseBytes);
        WriteNullable(json, "free_bytes", malloc.FreeBytes);
        WriteNullable(json, "releasable_bytes", malloc.ReleasableBytes);
        WriteNullable(json, "mmapped_bytes", malloc.MmappedBytes);
        WriteNullable(json, "mmapped_chunks", malloc.MmappedChunks);
        json.WriteEndObject();
    }

    private static void WriteNullable(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, value);
        }
    }

    public static void Write(Stream output, IReadOnlyList<MemoryReport> reports, bool indented = true)
    {
        using var json = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = indented });
        if (reports.Count == 1)
        {
            Write(json, reports[0]);
        }
        else
        {
            json.WriteStartArray();
            foreach (MemoryReport report in reports)
            {
                Write(json, report);
            }

            json.WriteEndArray();
        }

        json.Flush();
        output.WriteByte((byte)'\n');
    }

    private static void WriteTotals(Utf8JsonWriter json, in CategoryTotals totals, string? residentSource)
    {
        json.WriteStartObject();
        json.WriteNumber("regions", totals.Regions);
        json.WriteNumber("virtual_bytes", totals.VirtualBytes);
        WriteNullable(json, "resident_bytes", totals.ResidentBytes);
        WriteNullable(json, "resident_source", residentSource);
        WriteNullable(json, "proportional_bytes", totals.ProportionalBytes);
        WriteNullable(json, "swap_bytes", totals.SwapBytes);
        json.WriteEndObject();
    }

    /// <summary>A number, or null when there is none (the diff's writer too).</summary>
    internal static void WriteNullable(Utf8JsonWriter json, string name, long? value)
    {
        if (value is { } v)
        {
            json.WriteNumber(name, v);
        }
        else
        {
            json.WriteNull(name);
        }
    }
}
