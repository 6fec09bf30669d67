using MapsExporter.Core.Classifying;
using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Core.Parsing.Smaps;
using MapsExporter.Core.Proc;
using MapsExporter.Core.Reporting;
using MapsExporter.Core.Scanning;

namespace MapsExporter.Tests.Integration;

/// <summary>
/// A process of another managed runtime: this test host, a .NET process whose GC reserves a 256 GiB anonymous
/// range with committed read/write parts, the Java heap's shape. Without libjvm.so nothing is HotSpot's.
/// </summary>
public sealed class OtherRuntimeTests
{
    private static readonly RegionCategory[] HotSpotCategories =
        [RegionCategory.JavaHeap, RegionCategory.CodeCache, RegionCategory.Metaspace, RegionCategory.CdsArchive, RegionCategory.Gc];

    [Fact]
    public void A_dotnet_process_has_no_java_heap_live_or_from_its_dump()
    {
        // Keep GC-heap pages in use so the reservation has committed read/write parts while it is read.
        byte[][] live = Enumerable.Range(0, 64).Select(_ => new byte[64 * 1024]).ToArray();
        using var inspector = new ProcessInspector(new ProcFs());
        InspectionResult result = inspector.Inspect(Environment.ProcessId, keepRegions: true);
        MemoryReport report = result.Report;
        Assert.False(report.IsJvm);
        Assert.True(LargestAnonymousReservation(result.Regions!.Items) >= 1UL << 30, "no GC reservation of the JVM heap's shape: the test proves nothing");

        MemoryReport fromDump = ReportOfDump(File.ReadAllBytes($"/proc/{Environment.ProcessId}/smaps"));
        GC.KeepAlive(live);
        foreach (RegionCategory category in HotSpotCategories)
        {
            Assert.Equal(0, report[category].Regions);
            Assert.Equal(0, fromDump[category].Regions);
        }
    }

    private static ulong LargestAnonymousReservation(ReadOnlySpan<Mapping> items)
    {
        ulong largest = 0;
        foreach (ref readonly Mapping m in items)
        {
            if (m.Kind == MappingKind.Anonymous)
            {
                largest = Math.Max(largest, m.Size);
            }
        }

        return largest;
    }

    private static MemoryReport ReportOfDump(byte[] smaps)
    {
        var table = new MappingTable();
        var classification = new Classification();
        SmapsParser.Parse(smaps, table, "dump");
        RegionClassifier.Classify(table, classification);
        return ReportBuilder.Build(table, classification, new ProcessIdentity(null, "dump", false, 0), "dump", null, null);
    }
}
