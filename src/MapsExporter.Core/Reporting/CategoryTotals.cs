namespace MapsExporter.Core.Reporting;

/// <summary>Sizes of the regions of one category. Resident, proportional and swap are null when only maps was read.</summary>
public readonly record struct CategoryTotals(long Regions, long VirtualBytes, long? ResidentBytes, long? ProportionalBytes, long? SwapBytes)
{
    public static CategoryTotals Empty(bool residentKnown) =>
        residentKnown ? new CategoryTotals(0, 0, 0, 0, 0) : new CategoryTotals(0, 0, null, null, null);

    public CategoryTotals Add(in CategoryTotals other) => new(
        Regions + other.Regions,
        VirtualBytes + other.VirtualBytes,
        ResidentBytes + other.ResidentBytes,
        ProportionalBytes + other.ProportionalBytes,
        SwapBytes + other.SwapBytes);
}
