using System.Globalization;
using System.Text.Json;
using MapsExporter.Core.Classifying;
using MapsExporter.Core.Reporting;
using MapsExporter.Core.Scanning;

namespace MapsExporter.MemoryConsole;

/// <summary>
/// The documents of <c>/api/v1</c>: the list of processes, one process's report (<see cref="JsonReportWriter"/>, the
/// bytes <c>report PID --format json</c> writes) and its history. Written with <see cref="Utf8JsonWriter"/>, no
/// reflection (Native AOT). Unknown figures are null.
/// </summary>
internal static class ProcessApi
{
    public const string ContentType = "application/json; charset=utf-8";

    /// <summary><c>/api/v1/processes</c>: one object per process of the last scan, largest first.</summary>
    public static byte[] List(ScanSnapshot? snapshot, IReadOnlyDictionary<int, long[]> totals, TimeSpan window)
    {
        return Write(json =>
        {
            json.WriteStartObject();
            WriteTime(json, "scanned_at", snapshot?.Timestamp);
            json.WriteNumber("window_seconds", (long)window.TotalSeconds);
            json.WriteStartArray("processes");
            foreach (ProcessSample sample in (snapshot?.Processes ?? []).OrderByDescending(s => s.Report.Total.ResidentBytes ?? 0).ThenBy(s => s.Pid))
            {
                MemoryReport report = sample.Report;
                json.WriteStartObject();
                json.WriteNumber("pid", sample.Pid);
                json.WriteString("app", report.App);
                WriteNullable(json, "where", ProcessPlace.Describe(report) is { Length: > 0 } where ? where : null);
                WriteNullable(json, "cgroup", report.Cgroup?.Path is { Length: > 0 } path ? path : null);
                WriteNullable(json, "resident_bytes", report.ResidentKnown ? report.Total.ResidentBytes : null);
                json.WriteNumber("virtual_bytes", report.Total.VirtualBytes);
                WriteNullable(json, "java_heap_resident_bytes", report.ResidentKnown ? report[RegionCategory.JavaHeap].ResidentBytes : null);
                WriteNullable(json, "java_heap_max_bytes", Core.Cgroups.MemoryHeadroom.HeapMaxBytes(report));
                long[] series = totals.TryGetValue(sample.Pid, out long[]? s) ? s : [];
                WriteNullable(json, "resident_growth_bytes", HistoryWindow.Change(series));
                json.WriteNumber("history_samples", series.Length);
                json.WriteString("page", $"/process/{sample.Pid.ToString(CultureInfo.InvariantCulture)}");
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        });
    }

    /// <summary><c>/api/v1/processes/PID</c>: exactly what <c>report PID --format json</c> writes for the same report.</summary>
    public static byte[] Report(MemoryReport report)
    {
        using var buffer = new MemoryStream();
        JsonReportWriter.Write(buffer, [report]);
        return buffer.ToArray();
    }

    /// <summary><c>/api/v1/processes/PID/history</c>: the window's rows as columns (one array per figure, oldest first).</summary>
    public static byte[] History(MemoryReport report, HistoryWindow history) => Write(json =>
    {
        json.WriteStartObject();
        json.WriteNumber("pid", report.Pid ?? 0);
        json.WriteString("app", report.App);
        json.WriteNumber("window_seconds", (long)history.Window.TotalSeconds);
        json.WriteNumber("samples", history.Rows);
        json.WriteStartObject("first_seen");
        WriteTime(json, "time", DateTimeOffset.FromUnixTimeMilliseconds(history.First[HistoryColumns.Time]));
        json.WriteStartObject("resident_bytes_by_category");
        foreach (RegionCategory category in RegionCategories.All)
        {
            WriteValue(json, category.Id(), history.First[HistoryColumns.Resident(category)]);
        }

        json.WriteEndObject();
        foreach (var (name, column) in HistoryColumns.Named)
        {
            WriteValue(json, name, history.First[column]);
        }

        json.WriteEndObject();
        json.WriteStartArray("timestamps");
        foreach (long ms in history.Column(HistoryColumns.Time))
        {
            json.WriteNumberValue(ms / 1000.0);
        }

        json.WriteEndArray();
        json.WriteStartObject("resident_bytes_by_category");
        foreach (RegionCategory category in RegionCategories.All)
        {
            WriteArray(json, category.Id(), history.Column(HistoryColumns.Resident(category)));
        }

        json.WriteEndObject();
        foreach (var (name, column) in HistoryColumns.Named)
        {
            WriteArray(json, name, history.Column(column));
        }

        json.WriteEndObject();
    });

    /// <summary>A problem as <c>{"error": "..."}</c>, for 400 and 404 answers.</summary>
    public static byte[] Error(string message) => Write(json =>
    {
        json.WriteStartObject();
        json.WriteString("error", message);
        json.WriteEndObject();
    });

    private static byte[] Write(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            write(json);
        }

        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    private static void WriteArray(Utf8JsonWriter json, string name, long[] values)
    {
        json.WriteStartArray(name);
        foreach (long v in values)
        {
            if (v == HistoryColumns.Unknown)
            {
                json.WriteNullValue();
            }
            else
            {
                json.WriteNumberValue(v);
            }
        }

        json.WriteEndArray();
    }

    private static void WriteValue(Utf8JsonWriter json, string name, long value) =>
        WriteNullable(json, name, value == HistoryColumns.Unknown ? null : value);

    private static void WriteTime(Utf8JsonWriter json, string name, DateTimeOffset? time) =>
        WriteNullable(json, name, time?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));

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
}
