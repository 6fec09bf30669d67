using MapsExporter.Core.Parsing.Maps;

namespace MapsExporter.Core.Classifying;

/// <summary>
/// A program's or shared object's .bss is anonymous memory mapped right after its file-backed data segment
/// (libjvm.so's is about 500 KiB); it belongs to that library, as pmap shows it.
/// </summary>
internal static class LibraryBssAttributor
{
    public static void Attribute(MappingTable table, Classification result)
    {
        ReadOnlySpan<Mapping> items = table.Items;
        for (int i = 1; i < items.Length; i++)
        {
            if (!result.IsAssigned(i) && IsBss(items, result, i))
            {
                result.Assign(i, RegionCategory.SharedLibrary);
            }
        }
    }

    /// <summary>Anonymous read/write memory right after a library's file-backed data segment.</summary>
    public static bool IsBss(ReadOnlySpan<Mapping> items, Classification result, int i)
    {
        if (i == 0)
        {
            return false;
        }

        ref readonly Mapping previous = ref items[i - 1];
        return result[i - 1] == RegionCategory.SharedLibrary && previous.Kind == MappingKind.File
            && previous.IsPrivateReadWrite && items[i].Start == previous.End
            && AnonymousRun.IsAnonymousPrivate(items[i]) && items[i].IsPrivateReadWrite;
    }
}
