using MapsExporter.Core.Classifying;

namespace MapsExporter.Core.Scanning;

/// <summary>Resident and swapped bytes by category (indexed by <see cref="RegionCategory"/>) from <see cref="PagemapResident"/>.</summary>
internal sealed record PagemapFigures(long[] ResidentBytes, long[] SwapBytes, long TotalResidentBytes, long TotalSwapBytes, long Entries);
