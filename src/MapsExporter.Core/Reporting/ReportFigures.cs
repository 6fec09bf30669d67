using System.Text.Json;
using MapsExporter.Core.Classifying;

namespace MapsExporter.Core.Reporting;

/// <summary>What one side of a diff is: a saved JSON report (<c>report --format json</c>), a maps or smaps dump, or a live process.</summary>
public enum ReportKind
{
    SavedReport,
    Dump,
    LiveProcess,
}

/// <summary>One category's virtual and resident bytes (resident null when unknown).</summary>
public readonly record struct CategoryFigures(long VirtualBytes, long? ResidentBytes);

/// <summary>One thread-name group's stacks.</summary>
public readonly record struct ThreadGroupFigures(int Threads, long? ResidentBytes, long VirtualBytes);

/// <summary>
/// The figures a diff compares, taken from a <see cref="MemoryReport"/> (a dump or a live process) or read back from
/// a saved JSON report: per category virtual and resident bytes, arenas, malloc in use and free, threads, stacks by
/// group, mappings. Read back, every figure is the one <see cref="JsonReportWriter"/> wrote.
/// </summary>
public sealed record ReportFigures(
    string Source,
    ReportKind Kind,
    int? Pid,
    string App,
    bool ResidentKnown,
    IReadOnlyList<CategoryFigures> Categories,
    int LibcArenas,
    long? MallocInUseBytes,
    long? MallocFreeBytes,
    int? Threads,
    int ThreadStacks,
    IReadOnlyDictionary<string, ThreadGroupFigures> ThreadGroups,
    int? Mappings)
{
    public static ReportFigures From(MemoryReport report, ReportKind kind, string source) => new(
        source,
        kind,
        report.Pid,
        report.App,
        report.ResidentKnown,
        [.. RegionCategories.All.Select(c => new CategoryFigures(report[c].VirtualBytes, report.ResidentKnown ? report[c].ResidentBytes : null))],
        report.LibcArenas,
        report.Malloc?.InUseBytes,
        report.Malloc?.FreeBytes,
        report.Threads,
        report.ThreadStacks,
        report.ThreadGroups.ToDictionary(g => g.Key, g => new ThreadGroupFigures(g.Value.Threads, report.ResidentKnown ? g.Value.ResidentBytes : null, g.Value.VirtualBytes), StringComparer.Ordinal),
        report.Mappings);

    /// <summary>
    /// A saved <c>report --format json</c> document of one process. Throws <see cref="FormatException"/> saying what is
    /// wrong when it is not one (several reports, a missing or mistyped field). The JSON report carries no mapping
    /// count, so <see cref="Mappings"/> is the sum of the categories' regions only when written by an older tool: null.
    /// </summary>
    public static ReportFigures FromJson(ReadOnlySpan<byte> json, string source)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json.ToArray());
        }
        catch (JsonException e)
        {
            throw new FormatException($"{source}: not a JSON report ({e.Message})", e);
        }

        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Array)
            {
                throw new FormatException($"{source}: holds {root.GetArrayLength()} reports; diff compares one process's report with another's");
            }

            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("categories", out JsonElement categories) || categories.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException($"{source}: a JSON document but not a report of 'mapsexporter report --format json' (no \"categories\" object)");
            }

            var figures = new CategoryFigures[RegionCategories.Count];
            bool resident = false;
            foreach (RegionCategory category in RegionCategories.All)
            {
                if (!categories.TryGetProperty(category.Id(), out JsonElement c) || c.ValueKind != JsonValueKind.Object)
                {
                    // A report of an older tool without this category: it had none of it.
                    figures[(int)category] = new CategoryFigures(0, null);
                    continue;
                }

                long? rss = NullableLong(c, "resident_bytes", source);
                resident |= rss is not null;
                figures[(int)category] = new CategoryFigures(NullableLong(c, "virtual_bytes", source) ?? 0, rss);
            }

            var groups = new Dictionary<string, ThreadGroupFigures>(StringComparer.Ordinal);
            if (root.TryGetProperty("thread_groups", out JsonElement tg) && tg.ValueKind == JsonValueKind.Object)
            {
                foreach (JsonProperty g in tg.EnumerateObject())
                {
                    groups[g.Name] = new ThreadGroupFigures((int)(NullableLong(g.Value, "threads", source) ?? 0), NullableLong(g.Value, "resident_bytes", source), NullableLong(g.Value, "virtual_bytes", source) ?? 0);
                }
            }

            JsonElement malloc = root.TryGetProperty("malloc", out JsonElement m) && m.ValueKind == JsonValueKind.Object ? m : default;
            return new ReportFigures(
                source,
                ReportKind.SavedReport,
                (int?)NullableLong(root, "pid", source),
                root.TryGetProperty("app", out JsonElement app) && app.ValueKind == JsonValueKind.String ? app.GetString() ?? "" : "",
                resident,
                figures,
                (int)(NullableLong(root, "libc_arenas", source) ?? 0),
                malloc.ValueKind == JsonValueKind.Object ? NullableLong(malloc, "in_use_bytes", source) : null,
                malloc.ValueKind == JsonValueKind.Object ? NullableLong(malloc, "free_bytes", source) : null,
                (int?)NullableLong(root, "threads", source),
                (int)(NullableLong(root, "thread_stacks", source) ?? 0),
                groups,
                (int?)NullableLong(root, "mappings", source));
        }
    }

    private static long? NullableLong(JsonElement parent, string name, string source)
    {
        if (!parent.TryGetProperty(name, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out long v)
            ? v
            : throw new FormatException($"{source}: \"{name}\" is {value.ValueKind.ToString().ToLowerInvariant()}, not an integer");
    }
}
