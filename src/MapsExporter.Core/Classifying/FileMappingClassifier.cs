using System.Buffers;
using MapsExporter.Core.Parsing.Maps;

namespace MapsExporter.Core.Classifying;

/// <summary>
/// File-backed mappings: code (the executable and shared objects), the CDS archive, ZGC's heap memfd,
/// and everything else as mapped files (jars, the modules image, locale, hsperfdata).
/// </summary>
internal static class FileMappingClassifier
{
    private const string DeletedSuffix = " (deleted)";

    public static void Classify(MappingTable table, Classification result)
    {
        ReadOnlySpan<Mapping> items = table.Items;
        // Every path id is below the table's path count (no pass over the mappings for the largest).
        int maxPathId = table.PathCount - 1;

        // A file with an executable mapping is program code: all of its mappings (text, data, relro) count as library.
        bool[] executable = ArrayPool<bool>.Shared.Rent(maxPathId + 1);
        try
        {
            Array.Clear(executable, 0, maxPathId + 1);
            foreach (ref readonly Mapping m in items)
            {
                if (m.Kind == MappingKind.File && (m.Permissions & Permissions.Execute) != 0)
                {
                    executable[m.PathId] = true;
                }
            }

            // What each path's name says, kept with the table's paths across parses: a library has several mappings,
            // and the same process (or the next JVM) maps the same files scan after scan.
            List<RegionCategory> byName = table.PathCategories;
            while (byName.Count <= maxPathId)
            {
                string? path = table.PathAt(byName.Count);
                byName.Add(CategoryByName(StripDeleted(path)));
            }

            for (int i = 0; i < items.Length; i++)
            {
                ref readonly Mapping m = ref items[i];
                if (m.Kind != MappingKind.File)
                {
                    continue;
                }

                // A file with an executable mapping is code, whatever its name; the heap memfd and a CDS archive are not.
                RegionCategory category = byName[m.PathId];
                result.Assign(i, category == RegionCategory.MappedFile && executable[m.PathId] ? RegionCategory.SharedLibrary : category);
            }
        }
        finally
        {
            ArrayPool<bool>.Shared.Return(executable);
        }
    }

    /// <summary>What the path's name alone says: the Java heap memfd, a CDS archive, a shared object, or a mapped file.</summary>
    private static RegionCategory CategoryByName(ReadOnlySpan<char> path)
    {
        if (path.StartsWith("/memfd:java_heap", StringComparison.Ordinal))
        {
            return RegionCategory.JavaHeap;
        }

        ReadOnlySpan<char> name = BaseName(path);
        if (name.EndsWith(".jsa", StringComparison.Ordinal))
        {
            return RegionCategory.CdsArchive;
        }

        return IsSharedObjectName(name) ? RegionCategory.SharedLibrary : RegionCategory.MappedFile;
    }

    public static ReadOnlySpan<char> StripDeleted(string? path)
    {
        ReadOnlySpan<char> span = path;
        return span.EndsWith(DeletedSuffix, StringComparison.Ordinal) ? span[..^DeletedSuffix.Length] : span;
    }

    public static ReadOnlySpan<char> BaseName(ReadOnlySpan<char> path)
    {
        int slash = path.LastIndexOf('/');
        return slash < 0 ? path : path[(slash + 1)..];
    }

    // libfoo.so, libfoo.so.6, libfoo.so.6.0.1
    private static bool IsSharedObjectName(ReadOnlySpan<char> name)
    {
        int so = name.IndexOf(".so", StringComparison.Ordinal);
        return so > 0 && (so + 3 == name.Length || name[so + 3] == '.');
    }
}
