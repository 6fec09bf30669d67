namespace MapsExporter.Core;

/// <summary>
/// Sorts every mapping into one <see cref="RegionCategory"/> from the maps/smaps text alone. Each step
/// only looks at mappings the earlier steps left; the order matters: exact signals (names, files,
/// VmFlags) first, layout guesses last.
/// </summary>
public static class RegionClassifier
{
    public static void Classify(MappingTable table, Classification result)
    {
        result.Reset(table.Count);
        NamedRegionClassifier.Classify(table, result);
        FileMappingClassifier.Classify(table, result);
        ArenaDetector.Detect(table, result);
        ThreadStackLocator.Locate(table, result);
        CodeCacheLocator.Locate(table, result);
        ClassSpaceLocator.Locate(table, result);
        JavaHeapLocator.Locate(table, result);
        MetaspaceLocator.Locate(table, result);
        LibraryBssAttributor.Attribute(table, result);
        result.AssignRemainingUnknown();
    }
}
