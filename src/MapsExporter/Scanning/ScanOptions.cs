using MapsExporter.Configuration;
using Microsoft.Extensions.Options;

namespace MapsExporter.Scanning;

/// <summary>Section <c>Scan</c>: how often and where to scan.</summary>
internal sealed class ScanOptions
{
    public const string Section = "Scan";

    /// <summary>Time between scans, as Prometheus writes durations.</summary>
    public string Interval { get; set; } = "15s";

    public string ProcFs { get; set; } = "/proc";

    /// <summary>Read smaps (resident sizes; takes the target's mmap lock while the kernel walks page tables); false reads maps only.</summary>
    public bool Smaps { get; set; } = true;

    public TimeSpan IntervalValue => PrometheusDuration.TryParse(Interval, out TimeSpan d) ? d : TimeSpan.FromSeconds(15);
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

        if (string.IsNullOrEmpty(options.ProcFs) || !File.Exists(Path.Combine(options.ProcFs, "stat")))
        {
            failures.Add($"{CommandLineFlags.Describe("Scan:ProcFs")}: '{options.ProcFs}' is not a procfs mount (no stat file in it)");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
