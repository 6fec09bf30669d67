using System.Globalization;
using System.Text.RegularExpressions;

namespace MapsExporter.Tests.Support;

/// <summary>The figures of <c>jcmd PID VM.native_memory summary</c>, in bytes.</summary>
public sealed partial class NmtSummary
{
    private readonly Dictionary<string, (long Reserved, long Committed)> _categories = [];

    public long Reserved(string category) => _categories[category].Reserved;

    public long Committed(string category) => _categories[category].Committed;

    public bool Has(string category) => _categories.ContainsKey(category);

    /// <summary>The mmap part of a category's reservation (its malloc part is not in any mapping of its own).</summary>
    public long MmapReserved(string category) => _mmapReserved.TryGetValue(category, out long value) ? value : 0;

    private readonly Dictionary<string, long> _mmapReserved = [];

    /// <summary>The class space's reserved size: the <c>reserved=</c> line after "Class space:" in the Class section.</summary>
    public long ClassSpaceReserved { get; private set; }

    /// <summary>Non-class metaspace: the <c>reserved=</c> line after "Metadata:" in the Class section.</summary>
    public long MetaspaceReserved { get; private set; }

    /// <summary>From the Thread line: <c>(thread #20)</c>.</summary>
    public int Threads { get; private set; }

    public long StackReserved { get; private set; }

    public static NmtSummary Parse(string text)
    {
        var summary = new NmtSummary();
        string? current = null;
        string? pending = null;
        foreach (string raw in text.Split('\n'))
        {
            string line = raw.Trim();
            Match category = CategoryLine().Match(line);
            if (category.Success)
            {
                current = category.Groups[1].Value.Trim();
                summary._categories[current] = (Kb(category.Groups[2].Value), Kb(category.Groups[3].Value));
                continue;
            }

            Match mmap = MmapLine().Match(line);
            if (mmap.Success && current is not null)
            {
                summary._mmapReserved[current] = Kb(mmap.Groups[1].Value);
            }

            Match threads = ThreadCount().Match(line);
            if (threads.Success)
            {
                summary.Threads = int.Parse(threads.Groups[1].Value, CultureInfo.InvariantCulture);
            }

            Match stack = StackLine().Match(line);
            if (stack.Success)
            {
                summary.StackReserved = Kb(stack.Groups[1].Value);
            }

            if (line.Contains("Metadata:", StringComparison.Ordinal) || line.Contains("Class space:", StringComparison.Ordinal))
            {
                pending = line.Contains("Metadata:", StringComparison.Ordinal) ? "metadata" : "class space";
                continue;
            }

            Match reserved = SubReservedLine().Match(line);
            if (reserved.Success && pending is not null)
            {
                if (pending == "metadata")
                {
                    summary.MetaspaceReserved = Kb(reserved.Groups[1].Value);
                }
                else
                {
                    summary.ClassSpaceReserved = Kb(reserved.Groups[1].Value);
                }

                pending = null;
            }
        }

        return summary;
    }

    private static long Kb(string value) => long.Parse(value, CultureInfo.InvariantCulture) * 1024;

    [GeneratedRegex(@"^-\s+(.+?) \(reserved=(\d+)KB, committed=(\d+)KB")]
    private static partial Regex CategoryLine();

    [GeneratedRegex(@"^\(mmap: reserved=(\d+)KB")]
    private static partial Regex MmapLine();

    [GeneratedRegex(@"\(threads? #(\d+)\)")]
    private static partial Regex ThreadCount();

    [GeneratedRegex(@"\(stack: reserved=(\d+)KB")]
    private static partial Regex StackLine();

    [GeneratedRegex(@"^\(\s*reserved=(\d+)KB, committed=\d+KB\)$")]
    private static partial Regex SubReservedLine();
}
