namespace MapsExporter.Core;

/// <summary>Parses a whole <c>/proc/PID/maps</c> file (or a dump of one) into a <see cref="MappingTable"/>.</summary>
public static class MapsParser
{
    public static void Parse(ReadOnlySpan<byte> content, MappingTable table, string source)
    {
        table.Clear();
        DumpFormatDetector.ThrowIfNotText(content, source);
        int lineNumber = 0;
        ulong previousEnd = 0;
        foreach (ReadOnlySpan<byte> line in new LineEnumerator(content))
        {
            lineNumber++;
            if (line.IsEmpty)
            {
                continue;
            }

            string? problem = MapsLineParser.TryParse(line, table, out Mapping mapping);
            if (problem is not null)
            {
                throw new ProcParseException(source, lineNumber, problem);
            }

            if (mapping.Start < previousEnd)
            {
                throw new ProcParseException(source, lineNumber, "mappings out of address order or overlapping");
            }

            previousEnd = mapping.End;
            table.Add(mapping);
        }

        if (table.Count == 0)
        {
            throw new ProcParseException(source, 0, "no mappings (empty file)");
        }
    }
}
