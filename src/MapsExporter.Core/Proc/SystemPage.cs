namespace MapsExporter.Core.Proc;

/// <summary>
/// The kernel's base page size, as the process sees it (getpagesize: 4 KiB on x86-64; 4, 16 or 64 KiB on arm64, by
/// how the kernel was built). Every process on one kernel has the same base page, so what the exporter measures
/// in pages (pagemap entries, statm counts, page-aligned sizes of malloc chunks and JVM tables) uses this, never a
/// constant. Huge pages are told apart by smaps' own KernelPageSize and sizes, not by this.
/// </summary>
public static class SystemPage
{
    public static ulong Size { get; } = (ulong)Environment.SystemPageSize;
}
