using MapsExporter.Core.Classifying;
using MapsExporter.Core.Parsing.Maps;

namespace MapsExporter.Core.Reporting;

/// <summary>
/// An immutable copy of a classified mapping table, for a report that lists the regions one by one (the text report).
/// Made only when asked for: the daemon's scans reuse one table and never copy it.
/// </summary>
public sealed class ClassifiedRegions
{
    private readonly Mapping[] _items;
    private readonly RegionCategory[] _categories;
    private readonly string?[] _paths;

    private ClassifiedRegions(Mapping[] items, RegionCategory[] categories, string?[] paths)
    {
        _items = items;
        _categories = categories;
        _paths = paths;
    }

    public static ClassifiedRegions Capture(MappingTable table, Classification classification)
    {
        var items = table.Items.ToArray();
        var categories = new RegionCategory[items.Length];
        var paths = new string?[items.Length];
        for (int i = 0; i < items.Length; i++)
        {
            categories[i] = classification[i];
            paths[i] = table.PathOf(items[i]);
        }

        return new ClassifiedRegions(items, categories, paths);
    }

    public ReadOnlySpan<Mapping> Items => _items;

    public RegionCategory CategoryOf(int index) => _categories[index];

    public string? PathOf(int index) => _paths[index];
}
