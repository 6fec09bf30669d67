using System.Diagnostics;
using MapsExporter.Configuration;
using MapsExporter.Core.Proc;
using MapsExporter.Core.Scanning;
using MapsExporter.Metrics;
using Microsoft.Extensions.Options;

namespace MapsExporter.Scanning;

/// <summary>
/// Scans every <c>scan-interval</c> and publishes the result. The first scan runs inside <see cref="StartAsync"/>,
/// so the host reports itself started (and systemd gets READY=1) only once there is data to scrape. A scan never
/// throws: a failure is published as <c>mapsexporter_last_scan_success 0</c> and logged, throttled per class.
/// </summary>
internal sealed partial class ScanService : BackgroundService
{
    private static readonly TimeSpan WarningPeriod = TimeSpan.FromMinutes(10);
    private readonly ScanOptions _options;
    private readonly ProcessScanner _scanner;
    private readonly MetricsPublisher _publisher;
    private readonly LatestScan _latest;
    private readonly TimeProvider _time;
    private readonly ILogger<ScanService> _logger;
    private readonly FailureLogThrottle _throttle;
    private readonly IScanObserver[] _observers;
    private long _scans;

    public ScanService(IOptions<ScanOptions> options, ProcessScanner scanner, MetricsPublisher publisher, LatestScan latest, TimeProvider time, ILogger<ScanService> logger, IEnumerable<IScanObserver>? observers = null)
    {
        _observers = [.. observers ?? []];
        _options = options.Value;
        _scanner = scanner;
        _publisher = publisher;
        _latest = latest;
        _time = time;
        _logger = logger;
        _throttle = new FailureLogThrottle(time, WarningPeriod);
    }

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        LogStarting(_options.ProcFs, PrometheusDuration.Format(_options.IntervalValue), DescribeSource(_options));
        await Task.Run(() => ScanOnce(cancellationToken), cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.IntervalValue, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                ScanOnce(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One scan, published. Runs on one thread at a time (start, then the timer loop).</summary>
    internal void ScanOnce(CancellationToken stoppingToken = default)
    {
        long number = ++_scans;
        ScanSnapshot snapshot;
        long started = Stopwatch.GetTimestamp();
        try
        {
            snapshot = _scanner.Scan(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping (SIGTERM): the scan in progress is dropped, the last complete one stays published.
            LogAbandoned(number, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            snapshot = ScanSnapshot.Failed(_time.GetUtcNow(), Stopwatch.GetElapsedTime(started), $"{e.GetType().Name}: {e.Message}");
        }

        // sysfs is read here, not under the publisher's lock, which scrapes before the first scan wait for.
        _publisher.Publish(snapshot, HostCpus.Read(_options.SysFs));
        foreach (IScanObserver observer in _observers)
        {
            observer.Observe(snapshot);
        }

        _latest.Set(snapshot);
        ReturnMemoryWhileIdle();
        LogScan(number, snapshot.Duration.TotalMilliseconds, snapshot.Processes.Count, snapshot.Errors.Count);
        LogFailures(number, snapshot);
    }

    /// <summary>
    /// With seconds to wait before the next scan, a full compacting collection that gives free memory back to the
    /// OS keeps the idle daemon at its live data: measured with 20 JVMs at 15 s (AOT), 28 MB resident instead of
    /// 37-45 MB, for a few milliseconds of CPU per scan. Shorter intervals leave it to the GC's own pacing.
    /// </summary>
    private void ReturnMemoryWhileIdle()
    {
        if (_options.IntervalValue >= IdleCollectionMinimumInterval)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        }
    }

    private static readonly TimeSpan IdleCollectionMinimumInterval = TimeSpan.FromSeconds(5);

    private static string DescribeSource(ScanOptions options)
    {
        if (!options.Smaps)
        {
            return "maps";
        }

        ScanCostOptions cost = options.CostOptions;
        string source = cost.SmapsInterval > TimeSpan.Zero ? $"smaps at most every {PrometheusDuration.Format(cost.SmapsInterval)}, maps between" : "smaps";
        return cost.RollupAboveBytes > 0 ? FormattableString.Invariant($"{source}; smaps_rollup + maps above {cost.RollupAboveBytes} bytes Rss") : source;
    }

    private void LogFailures(long number, ScanSnapshot snapshot)
    {
        if (!snapshot.Success && _throttle.ShouldLog("scan", 1, out long failedScans))
        {
            LogScanFailed(number, snapshot.FailureMessage ?? "", failedScans);
        }

        foreach (IGrouping<ReadFailure, ScanError> group in snapshot.Errors.GroupBy(e => e.Reason))
        {
            string reason = ProcessReadException.LabelOf(group.Key);
            int count = group.Count();
            if (group.Key == ReadFailure.Vanished)
            {
                // A process exiting while it is read is ordinary: counted, logged at Debug.
                LogVanished(count, number, group.First().Message);
            }
            else if (_throttle.ShouldLog(reason, count, out long suppressed))
            {
                if (suppressed == 0)
                {
                    LogReadFailures(count, reason, number, group.First().Message, WarningPeriod.TotalMinutes);
                }
                else
                {
                    LogRepeatedReadFailures(count, reason, number, group.First().Message, suppressed);
                }
            }
        }

        if (snapshot.Fallbacks.Count > 0 && _throttle.ShouldLog("fallback", snapshot.Fallbacks.Count, out long fallbacks))
        {
            LogFallbacks(snapshot.Fallbacks.Count, number, snapshot.Fallbacks[0], fallbacks, WarningPeriod.TotalMinutes);
        }

        int inexact = snapshot.ExactMethodsUnavailable.Count;
        if (inexact > 0 && _throttle.ShouldLog("exact", inexact, out long inexactBefore))
        {
            LogExactUnavailable(inexact, number, snapshot.ExactMethodsUnavailable[0], inexactBefore, WarningPeriod.TotalMinutes);
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Scanning {ProcFs} every {Interval} (reading {Source})")]
    private partial void LogStarting(string procFs, string interval, string source);

    [LoggerMessage(EventId = 2, Level = LogLevel.Debug, Message = "Scan {Scan} took {DurationMs:F1} ms: {Processes} processes reported, {Errors} unreadable")]
    private partial void LogScan(long scan, double durationMs, int processes, int errors);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "{Count} processes could not be read ({Reason}) in scan {Scan}, e.g. {Example} (failures of this kind are logged again at most every {PeriodMinutes} minutes; mapsexporter_scan_errors_total counts them all)")]
    private partial void LogReadFailures(int count, string reason, long scan, string example, double periodMinutes);

    [LoggerMessage(EventId = 7, Level = LogLevel.Warning, Message = "{Count} processes could not be read ({Reason}) in scan {Scan}, e.g. {Example}; {Suppressed} more such failures since the last warning")]
    private partial void LogRepeatedReadFailures(int count, string reason, long scan, string example, long suppressed);

    [LoggerMessage(EventId = 4, Level = LogLevel.Debug, Message = "{Count} processes exited while scan {Scan} read them, e.g. {Example}")]
    private partial void LogVanished(int count, long scan, string example);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "{Count} processes were read through maps in scan {Scan} (no resident sizes published for them), e.g. {Example}; {Suppressed} more since the last warning (this warning repeats at most every {PeriodMinutes} minutes)")]
    private partial void LogFallbacks(int count, long scan, string example, long suppressed, double periodMinutes);

    [LoggerMessage(EventId = 8, Level = LogLevel.Debug, Message = "Scan {Scan} stopped after {DurationMs:F1} ms: the daemon is stopping")]
    private partial void LogAbandoned(long scan, double durationMs);

    [LoggerMessage(EventId = 9, Level = LogLevel.Warning, Message = "{Count} processes were classified without exact methods in scan {Scan} (their regions decided by layout; mapsexporter_classification_fallbacks_total counts them), e.g. {Example}; {Suppressed} more since the last warning (this warning repeats at most every {PeriodMinutes} minutes)")]
    private partial void LogExactUnavailable(int count, long scan, string example, long suppressed, double periodMinutes);

    [LoggerMessage(EventId = 6, Level = LogLevel.Error, Message = "Scan {Scan} failed: {Reason}; {Suppressed} more failed scans since the last error")]
    private partial void LogScanFailed(long scan, string reason, long suppressed);
}
