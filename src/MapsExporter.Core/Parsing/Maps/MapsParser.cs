using MapsExporter.Core.Parsing.Dumps;

namespace MapsExporter.Core.Parsing.Maps;

/// <summary>Parses a whole <c>/proc/PID/maps</c> file (or a dump of one) into a <see cref="MappingTable"/>.</summary>
public static class MapsParser
{
    public static void Parse(ReadOnlySpan<byte> content, MappingTable table, string source)
    {
        table.Clear();
        DumpFormatDetector.ThrowIfNotText(content, source);
        int lineNumber = 0;
        ulong previousEnd = 0;
        int next = 0;
        while (next < content.Length)
        {
            // Lines by position, not as spans: the header reader may read past a line's end into the text.
            int start = next;
            int newline = content[start..].IndexOf((byte)'\n');
            int length = newline < 0 ? content.Length - start : newline;
            next = start + length + 1;
            lineNumber++;
            if (length == 0)
            {
                continue;
            }

            string? problem = MapsLineParser.TryParse(content, start, length, table, out Mapping mapping);
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
