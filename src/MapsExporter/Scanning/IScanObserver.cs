using MapsExporter.Core.Scanning;

namespace MapsExporter.Scanning;

/// <summary>Told of every completed scan (failed ones too) after it is published, on the scan thread: keep it short.</summary>
internal interface IScanObserver
{
    void Observe(ScanSnapshot snapshot);
}
