using System.Globalization;
using MapsExporter.Core.Cgroups;
using MapsExporter.Core.Parsing;
using MapsExporter.Core.Proc;
using MapsExporter.Core.Reporting;
using MapsExporter.Core.Scanning;
using MapsExporter.Scanning;
using Microsoft.Extensions.Options;

namespace MapsExporter.MemoryConsole;

/// <summary>
/// The memory console (issue 17): <c>/process/PID</c> and <c>/api/v1/*</c>, served from the last scan and the
/// <see cref="HistoryStore"/>; behind the same TLS and basic auth as <c>/metrics</c> (the web config's middleware runs
/// before every endpoint). A PID that is not a positive integer is 400, one the last scan did not report 404.
/// </summary>
internal static class MemoryConsoleEndpoints
{
    public static IServiceCollection AddMemoryConsole(this IServiceCollection services)
    {
        services.AddSingleton<HistoryStore>();
        services.AddSingleton<IScanObserver>(sp => sp.GetRequiredService<HistoryStore>());
        return services;
    }

    public static WebApplication MapMemoryConsole(this WebApplication app)
    {
        app.MapGet("/api/v1/processes", (LatestScan latest, HistoryStore history) =>
            new JsonBytesResult(ProcessApi.List(latest.Snapshot, history.ResidentTotals(), history.Window)));
        app.MapGet("/api/v1/processes/{pid}", (string pid, LatestScan latest) =>
            Find(pid, latest, out ProcessSample? sample) ?? new JsonBytesResult(ProcessApi.Report(sample!.Report)));
        app.MapGet("/api/v1/processes/{pid}/history", (string pid, LatestScan latest, HistoryStore history) =>
            Find(pid, latest, out ProcessSample? sample)
            ?? (history.Get(sample!.Pid) is { } window
                ? new JsonBytesResult(ProcessApi.History(sample.Report, window))
                : NotFound($"no history for process {sample.Pid} yet")));
        app.MapGet("/process/{pid}", (string pid, LatestScan latest, HistoryStore history, IOptions<ScanOptions> scan) =>
        {
            if (!TryParsePid(pid, out int number))
            {
                return Results.Content(ProcessPage.Problem($"'{pid}' is not a process ID"), ProcessPage.ContentType, statusCode: StatusCodes.Status400BadRequest);
            }

            ProcessSample? sample = latest.Snapshot?.Processes.FirstOrDefault(p => p.Pid == number);
            if (sample is null || history.Get(number) is not { } window)
            {
                return Results.Content(ProcessPage.Problem($"process {number} is not in the last scan"), ProcessPage.ContentType, statusCode: StatusCodes.Status404NotFound);
            }

            return Results.Content(ProcessPage.Render(sample, window, latest.Snapshot!.Timestamp, TextReportNow(scan.Value, sample)), ProcessPage.ContentType);
        });
        return app;
    }

    /// <summary>
    /// Below this resident size the page's text report reads smaps, as <c>report PID</c> does: its walk of the page
    /// tables costs tens of milliseconds there (a pre-touched 4 GiB heap: 60 ms, docs/benchmarks.md). Above it, or
    /// with <c>--scan.smaps=false</c>, maps only: serving a page must not stall a huge JVM's memory-map changes.
    /// </summary>
    internal const long FullReportBelowBytes = 4L << 30;

    /// <summary>The text report read when the page is asked for (see <see cref="FullReportBelowBytes"/>); null when the process cannot be read now.</summary>
    private static ProcessPage.TextReport? TextReportNow(ScanOptions scan, ProcessSample sample)
    {
        bool smaps = scan.Smaps && sample.Totals?.ResidentBytes is { } resident && resident < FullReportBelowBytes;
        try
        {
            using var inspector = new ProcessInspector(new ProcFs(scan.ProcFs), cgroupFs: CgroupFs.ForThisProcess(scan.CgroupFs));
            InspectionResult result = inspector.Inspect(sample.Pid, new InspectRequest { Mode = smaps ? ScanMode.Smaps : ScanMode.Maps, KeepRegions = true });
            using var text = new StringWriter(CultureInfo.InvariantCulture);
            TextReportWriter.Write(text, result.Report, result.Regions!);
            return new ProcessPage.TextReport(text.ToString(), result.Report.ResidentKnown);
        }
        catch (Exception e) when (e is ProcessReadException or ProcParseException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Null with <paramref name="sample"/> set when <paramref name="pid"/> names a process of the last scan, else the 400 or 404 answer.</summary>
    private static JsonBytesResult? Find(string pid, LatestScan latest, out ProcessSample? sample)
    {
        sample = null;
        if (!TryParsePid(pid, out int number))
        {
            return new JsonBytesResult(ProcessApi.Error($"'{pid}' is not a process ID (a positive integer)"), StatusCodes.Status400BadRequest);
        }

        sample = latest.Snapshot?.Processes.FirstOrDefault(p => p.Pid == number);
        return sample is null ? NotFound($"process {number} is not in the last scan") : null;
    }

    private static JsonBytesResult NotFound(string message) =>
        new JsonBytesResult(ProcessApi.Error(message), StatusCodes.Status404NotFound);

    private static bool TryParsePid(string text, out int pid) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out pid) && pid > 0;
}
