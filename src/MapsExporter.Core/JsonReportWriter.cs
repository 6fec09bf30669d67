using System.Text.Json;

namespace MapsExporter.Core;

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
        json.WriteStartObject("categories");
        foreach (RegionCategory category in RegionCategories.All)
        {
            json.WritePropertyName(category.Id());
            WriteTotals(json, report[category]);
        }

        json.WriteEndObject();
        json.WritePropertyName("total");
        WriteTotals(json, report.Total);
        json.WriteEndObject();
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

    private static void WriteTotals(Utf8JsonWriter json, in CategoryTotals totals)
    {
        json.WriteStartObject();
        json.WriteNumber("regions", totals.Regions);
        json.WriteNumber("virtual_bytes", totals.VirtualBytes);
        WriteNullable(json, "resident_bytes", totals.ResidentBytes);
        WriteNullable(json, "proportional_bytes", totals.ProportionalBytes);
        WriteNullable(json, "swap_bytes", totals.SwapBytes);
        json.WriteEndObject();
    }

    private static void WriteNullable(Utf8JsonWriter json, string name, long? value)
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
