using MapsExporter.Core.Parsing.Maps;

namespace MapsExporter.Core.Classifying;

/// <summary>The regions the kernel names: <c>[heap]</c>, <c>[stack]</c>, <c>[vdso]</c> and friends, and <c>[anon:...]</c> names.</summary>
internal static class NamedRegionClassifier
{
    public static void Classify(MappingTable table, Classification result)
    {
        ReadOnlySpan<Mapping> items = table.Items;
        for (int i = 0; i < items.Length; i++)
        {
            switch (items[i].Kind)
            {
                case MappingKind.Kernel:
                    result.Assign(i, RegionCategory.Kernel);
                    break;
                case MappingKind.Heap:
                    result.Assign(i, RegionCategory.MainArena);
                    break;
                case MappingKind.Stack:
                    // Counted by ThreadStackLocator, which knows which thread it belongs to.
                    result.Assign(i, RegionCategory.ThreadStack);
                    break;
                case MappingKind.NamedAnonymous:
                    ClassifyAnonName(table.PathOf(i) ?? "", i, result);
                    break;
            }
        }
    }

    // glibc >= 2.39 names its regions when GLIBC_TUNABLES=glibc.mem.decorate_maps=1.
    private static void ClassifyAnonName(string name, int index, Classification result)
    {
        if (name.StartsWith("[anon: glibc: malloc arena", StringComparison.Ordinal))
        {
            // Counted by ArenaDetector, which also sees these.
            return;
        }

        if (name.StartsWith("[anon: glibc: pthread stack", StringComparison.Ordinal))
        {
            return;
        }

        if (name.StartsWith("[anon:", StringComparison.Ordinal))
        {
            return;
        }

        // Other bracketed names ([uprobes] handled as kernel; anon_inode:... etc.) are kernel objects mapped in.
        result.Assign(index, RegionCategory.MappedFile);
    }
}
