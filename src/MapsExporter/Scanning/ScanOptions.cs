using MapsExporter.Configuration;
using MapsExporter.Core.Scanning;
using Microsoft.Extensions.Options;

namespace MapsExporter.Scanning;

/// <summary>Section <c>Scan</c>: how often and where to scan.</summary>
internal sealed class ScanOptions
{
    public const string Section = "Scan";

    /// <summary>Time between scans, as Prometheus writes durations.</summary>
    public string Interval { get; set; } = "15s";

    public string ProcFs { get; set; } = "/proc";

    /// <summary>sysfs mount point (the host's /sys in a container): the online CPUs are read there.</summary>
    public string SysFs { get; set; } = "/sys";

    /// <summary>Read smaps (resident sizes; takes the target's mmap lock while the kernel walks page tables); false reads maps only.</summary>
    public bool Smaps { get; set; } = true;

    /// <summary>
    /// Least time between smaps reads of one process; maps is read in the scans between. <c>0s</c>: every scan.
    /// A minute by default: the page-table walk is most of the daemon's cost (as much as <c>cat</c> of the same
    /// smaps) and holds the target's mmap lock, while resident sizes move slowly; the layout (arenas, stacks,
    /// threads, virtual sizes) stays as fresh as the scan.
    /// </summary>
    public string SmapsInterval { get; set; } = DefaultSmapsInterval;

    public const string DefaultSmapsInterval = "1m";

    /// <summary>Processes whose Rss (statm) is above this many bytes are read through smaps_rollup + maps; 0: never.</summary>
    public long RollupAboveBytes { get; set; }

    public TimeSpan IntervalValue => PrometheusDuration.TryParse(Interval, out TimeSpan d) ? d : TimeSpan.FromSeconds(15);

    public ScanCostOptions CostOptions => new()
    {
        SmapsInterval = PrometheusDuration.TryParse(SmapsInterval, out TimeSpan s) ? s : TimeSpan.Zero,
        RollupAboveBytes = RollupAboveBytes,
    };
}

internal sealed class ScanOptionsValidator : IValidateOptions<ScanOptions>
{
    public ValidateOptionsResult Validate(string? name, ScanOptions options)
    {
        var failures = new List<string>();
        if (!PrometheusDuration.TryParse(options.Interval, out TimeSpan interval) || interval <= TimeSpan.Zero)
        {
            failures.Add($"{CommandLineFlags.Describe("Scan:Interval")}: '{options.Interval}' is not a positive duration like 500ms, 15s, 1m or 1h30m");
        }

        if (!PrometheusDuration.TryParse(options.SmapsInterval, out _))
        {
            failures.Add($"{CommandLineFlags.Describe("Scan:SmapsInterval")}: '{options.SmapsInterval}' is not a duration like 1m or 5m (0s: every scan)");
        }

        if (options.RollupAboveBytes < 0)
        {
            failures.Add($"{CommandLineFlags.Describe("Scan:RollupAboveBytes")}: {options.RollupAboveBytes} is negative (0 turns it off)");
        }

        if (string.IsNullOrEmpty(options.ProcFs) || !File.Exists(Path.Combine(options.ProcFs, "stat")))
        {
            failures.Add($"{CommandLineFlags.Describe("Scan:ProcFs")}: '{options.ProcFs}' is not a procfs mount (no stat file in it)");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
