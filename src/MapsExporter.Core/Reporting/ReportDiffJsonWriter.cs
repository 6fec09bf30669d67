using System.Text.Json;
using MapsExporter.Core.Classifying;

namespace MapsExporter.Core.Reporting;

/// <summary>
/// A <see cref="ReportDiff"/> for scripts: <c>{"before", "after", "categories": [{"category", "virtual_bytes":
/// {"before", "after", "change"}, "resident_bytes": {...}}], "total", "figures": {name: {...}}, "thread_groups": [...]}</c>,
/// bytes as integers, unknown figures null, in the diff's order (largest changes first).
/// </summary>
public static class ReportDiffJsonWriter
{
    public static void Write(Stream output, ReportDiff diff)
    {
        using (var json = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            WriteSide(json, "before", diff.Before);
            WriteSide(json, "after", diff.After);
            json.WriteStartArray("categories");
            foreach (CategoryChange c in diff.Categories)
            {
                json.WriteStartObject();
                json.WriteString("category", c.Category.Id());
                WriteChange(json, "virtual_bytes", c.Virtual);
                WriteChange(json, "resident_bytes", c.Resident);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartObject("total");
            WriteChange(json, "virtual_bytes", diff.Total.Virtual);
            WriteChange(json, "resident_bytes", diff.Total.Resident);
            json.WriteEndObject();
            json.WriteStartObject("figures");
            foreach (var (name, change) in diff.Figures)
            {
                WriteChange(json, name, change);
            }

            json.WriteEndObject();
            json.WriteStartArray("thread_groups");
            foreach (ThreadGroupChange g in diff.ThreadGroups)
            {
                json.WriteStartObject();
                json.WriteString("group", g.Group);
                WriteChange(json, "threads", g.Threads);
                WriteChange(json, "resident_bytes", g.Resident);
                WriteChange(json, "virtual_bytes", g.Virtual);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        output.WriteByte((byte)'\n');
    }

    private static void WriteSide(Utf8JsonWriter json, string name, ReportFigures side)
    {
        json.WriteStartObject(name);
        json.WriteString("source", side.Source);
        json.WriteString("kind", side.Kind switch { ReportKind.SavedReport => "report", ReportKind.Dump => "dump", _ => "live" });
        JsonReportWriter.WriteNullable(json, "pid", side.Pid);
        json.WriteString("app", side.App);
        json.WriteBoolean("resident_known", side.ResidentKnown);
        json.WriteEndObject();
    }

    private static void WriteChange(Utf8JsonWriter json, string name, FigureChange change)
    {
        json.WriteStartObject(name);
        JsonReportWriter.WriteNullable(json, "before", change.Before);
        JsonReportWriter.WriteNullable(json, "after", change.After);
        JsonReportWriter.WriteNullable(json, "change", change.Change);
        json.WriteEndObject();
    }
}
