using System.Globalization;
using MapsExporter.Core.Classifying;

namespace MapsExporter.Core.Reporting;

/// <summary>A <see cref="ReportDiff"/> for people: the sides, a table per category, then the other figures and stacks by group, largest changes first.</summary>
public static class ReportDiffTextWriter
{
    public static void Write(TextWriter output, ReportDiff diff)
    {
        output.WriteLine($"before: {Side(diff.Before)}");
        output.WriteLine($"after:  {Side(diff.After)}");
        output.WriteLine();
        output.WriteLine($"{"category",-18} {"vsz before",14} {"vsz after",14} {"vsz change",14} {"rss before",14} {"rss after",14} {"rss change",14}");
        foreach (CategoryChange c in diff.Categories)
        {
            WriteCategory(output, c.Category.Id(), c);
        }

        WriteCategory(output, "total", diff.Total);
        output.WriteLine();
        output.WriteLine($"{"figure",-20} {"before",14} {"after",14} {"change",14}");
        foreach (var (name, change) in diff.Figures.OrderByDescending(f => f.Change.Magnitude != 0))
        {
            bool bytes = name.EndsWith("_bytes", StringComparison.Ordinal);
            output.WriteLine($"{name,-20} {Value(change.Before, bytes),14} {Value(change.After, bytes),14} {Signed(change.Change, bytes),14}");
        }

        if (diff.ThreadGroups.Count > 0)
        {
            output.WriteLine();
            output.WriteLine($"{"thread group",-24} {"threads",8} {"after",8} {"rss before",14} {"rss after",14} {"rss change",14}");
            foreach (ThreadGroupChange g in diff.ThreadGroups)
            {
                output.WriteLine($"{g.Group,-24} {Value(g.Threads.Before, false),8} {Value(g.Threads.After, false),8} {Value(g.Resident.Before, true),14} {Value(g.Resident.After, true),14} {Signed(g.Resident.Change, true),14}");
            }
        }
    }

    private static string Side(ReportFigures side)
    {
        string kind = side.Kind switch
        {
            ReportKind.SavedReport => "saved report",
            ReportKind.Dump => "dump",
            _ => "live process",
        };
        string pid = side.Pid is { } p ? $", pid {p.ToString(CultureInfo.InvariantCulture)}" : "";
        return $"{side.Source} ({kind}{pid}, {side.App}{(side.ResidentKnown ? "" : "; maps only: no resident figures")})";
    }

    private static void WriteCategory(TextWriter output, string name, CategoryChange c) =>
        output.WriteLine($"{name,-18} {Value(c.Virtual.Before, true),14} {Value(c.Virtual.After, true),14} {Signed(c.Virtual.Change, true),14} {Value(c.Resident.Before, true),14} {Value(c.Resident.After, true),14} {Signed(c.Resident.Change, true),14}");

    private static string Value(long? value, bool bytes) =>
        value is not { } v ? "?" : bytes ? TextReportWriter.Size(v) : v.ToString(CultureInfo.InvariantCulture);

    private static string Signed(long? change, bool bytes) => change switch
    {
        null => "?",
        0 => "0",
        > 0 => "+" + Value(change, bytes),
        _ => "-" + Value(-change, bytes),
    };
}
