namespace MapsExporter.Metrics;

/// <summary>The exporter's own cost at one moment, for the <c>mapsexporter_self_*</c> families.</summary>
internal readonly record struct SelfFigures(long ResidentBytes, double CpuSeconds, long GcHeapBytes, long GcCommittedBytes, long AllocatedBytes)
{
    public static SelfFigures Read()
    {
        GCMemoryInfo gc = GC.GetGCMemoryInfo();
        return new SelfFigures(Environment.WorkingSet, Environment.CpuUsage.TotalTime.TotalSeconds, gc.HeapSizeBytes, gc.TotalCommittedBytes, GC.GetTotalAllocatedBytes());
    }
}
