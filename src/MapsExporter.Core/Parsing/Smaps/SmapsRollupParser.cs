using System.Buffers.Text;
using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Core.Scanning;

namespace MapsExporter.Core.Parsing.Smaps;

/// <summary>
/// Parses <c>/proc/PID/smaps_rollup</c> (Linux 4.14+): one header line, then the smaps fields summed over every
/// mapping. It has no Size line. Keeps Rss, Pss and Swap.
/// </summary>
public static class SmapsRollupParser
{
    public static ResidentTotals Parse(ReadOnlySpan<byte> content, string source)
    {
        long rss = -1, pss = -1, swap = 0;
        int lineNumber = 0;
        foreach (ReadOnlySpan<byte> line in new LineEnumerator(content))
        {
            lineNumber++;
            int colon = line.IndexOf((byte)':');
            if (colon <= 0 || MapsLineParser.LooksLikeHeader(line))
            {
                continue;
            }

            ReadOnlySpan<byte> key = line[..colon];
            bool isRss = key.SequenceEqual("Rss"u8), isPss = key.SequenceEqual("Pss"u8), isSwap = key.SequenceEqual("Swap"u8);
            if (!isRss && !isPss && !isSwap)
            {
                continue;
            }

            ReadOnlySpan<byte> value = line[(colon + 1)..].TrimStart((byte)' ');
            if (!Utf8Parser.TryParse(value, out long kb, out int consumed) || kb < 0 || kb > SmapsParser.MaxSizeKb || !value[consumed..].SequenceEqual(" kB"u8))
            {
                throw new ProcParseException(source, lineNumber, "expected a size like '132 kB'");
            }

            long bytes = kb * 1024;
            if (isRss)
            {
                rss = bytes;
            }
            else if (isPss)
            {
                pss = bytes;
            }
            else
            {
                swap = bytes;
            }
        }

        if (rss < 0 || pss < 0)
        {
            throw new ProcParseException(source, lineNumber, "no Rss or Pss line: not smaps_rollup, or truncated");
        }

        return new ResidentTotals(rss, pss, swap);
    }
}
