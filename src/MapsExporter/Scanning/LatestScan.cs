using MapsExporter.Core.Scanning;

namespace MapsExporter.Scanning;

/// <summary>
/// The last completed scan, for <c>/</c> and <c>/healthz</c>: <see cref="ScanService"/> sets it once the scan is
/// published, any request thread reads it. <c>/metrics</c> serves the publisher's rendered bytes instead.
/// </summary>
internal sealed class LatestScan
{
    private ScanSnapshot? _snapshot;

    /// <summary>The last completed scan, or null before the first.</summary>
    public ScanSnapshot? Snapshot => Volatile.Read(ref _snapshot);

    public void Set(ScanSnapshot snapshot) => Volatile.Write(ref _snapshot, snapshot);
}
