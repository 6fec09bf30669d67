using MapsExporter.Core.Parsing.Maps;

namespace MapsExporter.Core.Parsing.Dumps;

public enum DumpFormat
{
    Maps,
    Smaps,
}

/// <summary>Tells a maps dump from an smaps dump by content, and refuses what is neither.</summary>
public static class DumpFormatDetector
{
    /// <summary>
    /// The format, from the first lines. A NUL byte anywhere is refused by either parser (the smaps one finds NULs
    /// while it splits lines, so no pass of its own over the whole text), and here before any other error.
    /// </summary>
    public static DumpFormat Detect(ReadOnlySpan<byte> content, string source)
    {
        int lineNumber = 0;
        bool sawHeader = false;
        foreach (ReadOnlySpan<byte> line in new LineEnumerator(content))
        {
            lineNumber++;
            if (line.IsEmpty)
            {
                continue;
            }

            bool header = MapsLineParser.LooksLikeHeader(line);
            if (!sawHeader)
            {
                if (!header)
                {
                    ThrowIfNotText(content, source);
                    throw new ProcParseException(source, lineNumber, "not a maps or smaps dump: expected a mapping line like '7f00-7f10 rw-p 0 00:00 0'");
                }

                sawHeader = true;
                continue;
            }

            return header ? DumpFormat.Maps : DumpFormat.Smaps;
        }

        if (!sawHeader)
        {
            ThrowIfNotText(content, source);
            throw new ProcParseException(source, 0, "empty: no mappings");
        }

        return DumpFormat.Maps;
    }

    internal static void ThrowIfNotText(ReadOnlySpan<byte> content, string source)
    {
        if (content.IndexOf((byte)0) >= 0)
        {
            throw new ProcParseException(source, 0, "binary data, not a maps or smaps dump");
        }
    }
}
