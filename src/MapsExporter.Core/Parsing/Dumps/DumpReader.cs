using MapsExporter.Core.Classifying;
using MapsExporter.Core.Classifying.HotSpot;
using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Core.Parsing.Smaps;
using MapsExporter.Core.Reporting;

namespace MapsExporter.Core.Parsing.Dumps;

/// <summary>Reports a saved maps or smaps dump (the format is told by content).</summary>
public static class DumpReader
{
    public const long MaxDumpBytes = 512L * 1024 * 1024;

    public static MemoryReport Read(string path, MappingTable table, Classification classification)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new ProcParseException(path, 0, "no such file");
        }

        if (info.Length > MaxDumpBytes)
        {
            throw new ProcParseException(path, 0, $"larger than {MaxDumpBytes} bytes, not a maps or smaps dump");
        }

        byte[] content = File.ReadAllBytes(path);
        return Report(content, path, table, classification);
    }

    public static MemoryReport Report(ReadOnlySpan<byte> content, string source, MappingTable table, Classification classification)
    {
        if (DumpFormatDetector.Detect(content, source) == DumpFormat.Smaps)
        {
            SmapsParser.Parse(content, table, source);
        }
        else
        {
            MapsParser.Parse(content, table, source);
        }

        RegionClassifier.Classify(table, classification);
        bool isJvm = JvmDetector.MapsLibJvm(table);
        return ReportBuilder.Build(table, classification, ProcessIdentity.ForDump(ExecutableName(table), isJvm), source, threads: null);
    }

    /// <summary>A dump has no command line: name it after the first mapped executable file.</summary>
    private static string ExecutableName(MappingTable table)
    {
        foreach (ref readonly Mapping m in table.Items)
        {
            if (m.Kind == MappingKind.File && (m.Permissions & Permissions.Execute) != 0)
            {
                return AppNameResolver.Sanitize(FileMappingClassifier.BaseName(FileMappingClassifier.StripDeleted(table.PathOf(m))).ToString());
            }
        }

        return "unknown";
    }
}
