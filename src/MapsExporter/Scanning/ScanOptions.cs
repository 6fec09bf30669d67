using MapsExporter.Configuration;
using MapsExporter.Core.Scanning;
using MapsExporter.Metrics;
using Microsoft.Extensions.Options;

namespace MapsExporter.Scanning;

/// <summary>Section <c>Scan</c>: how often and where to scan. The defaults here are the only ones (flags and <c>--help</c> read them).</summary>
internal sealed class ScanOptions
{
    public const string Section = "Scan";

    /// <summary>Time between scans, as Prometheus writes durations.</summary>
    public string Interval { get; set; } = "15s";

    public string ProcFs { get; set; } = "/proc";

    /// <summary>sysfs mount point (the host's /sys in a container): the online CPUs are read there.</summary>
    public string SysFs { get; set; } = "/sys";

    /// <summary>cgroup filesystem mount point (the host's /sys/fs/cgroup in a container): the processes' cgroups are read there.</summary>
    public string CgroupFs { get; set; } = "/sys/fs/cgroup";

    /// <summary>Read smaps (resident sizes; takes the target's mmap lock while the kernel walks page tables); false reads maps only.</summary>
    public bool Smaps { get; set; } = true;

    /// <summary>
    /// Least time between smaps reads of one process; maps is read in the scans between. <c>0s</c>: every scan.
    /// A minute by default: the page-table walk is most of the daemon's cost (as much as <c>cat</c> of the same
    /// smaps) and holds the target's mmap lock, while resident sizes move slowly; the layout (arenas, stacks,
    /// threads, virtual sizes) stays as fresh as the scan.
    /// </summary>
    public string SmapsInterval { get; set; } = "1m";

    /// <summary>Processes whose Rss (statm) is above this many bytes are read through smaps_rollup + maps; 0: never.</summary>
    public long RollupAboveBytes { get; set; }

    /// <summary>Where resident figures come from between smaps reads: auto (the cheaper per process, as measured), smaps, pagemap.</summary>
    public string Resident { get; set; } = "auto";

    public TimeSpan IntervalValue => PrometheusDuration.TryParse(Interval, out TimeSpan d) ? d : TimeSpan.FromSeconds(15);

    public ScanCostOptions CostOptions => new()
    {
        SmapsInterval = PrometheusDuration.TryParse(SmapsInterval, out TimeSpan s) ? s : TimeSpan.Zero,
        RollupAboveBytes = RollupAboveBytes,
        Resident = ResidentModes.Parse(Resident) ?? ResidentMode.Auto,
    };

    /// <summary>The section's flags: <c>--path.*</c> for the roots, <c>--scan.*</c> for the rest.</summary>
    public static class Flags
    {
        private static readonly ScanOptions Defaults = new();

        public static Flag ProcFs { get; } = Flag.For("--path.procfs", Section, nameof(ScanOptions.ProcFs), Defaults.ProcFs,
            "procfs mount point (the host's /proc when in a container)");

        public static Flag SysFs { get; } = Flag.For("--path.sysfs", Section, nameof(ScanOptions.SysFs), Defaults.SysFs,
            "sysfs mount point (the host's /sys when in a container): the online CPUs are read there");

        public static Flag CgroupFs { get; } = Flag.For("--path.cgroupfs", Section, nameof(ScanOptions.CgroupFs), Defaults.CgroupFs,
            "cgroup filesystem mount point (the host's /sys/fs/cgroup when in a container): memory limits and usage of the processes' cgroups are read there");

        public static Flag Interval { get; } = Flag.For("--scan.interval", Section, nameof(ScanOptions.Interval), Defaults.Interval,
            "time between scans, as Prometheus writes durations (500ms, 15s, 1m, 1h30m)", oldName: "--scan-interval");

        public static Flag Smaps { get; } = Flag.For("--scan.smaps", Section, nameof(ScanOptions.Smaps), Defaults.Smaps,
            "read smaps (resident sizes); false reads maps only, which never stalls the target");

        public static Flag SmapsInterval { get; } = Flag.For("--scan.smaps-interval", Section, nameof(ScanOptions.SmapsInterval), Defaults.SmapsInterval,
            "least time between smaps reads of a process (page-table walks); maps in the scans between keeps the layout fresh, resident figures are kept from the last smaps read; 0s: every scan");

        public static Flag RollupAboveBytes { get; } = Flag.For("--scan.rollup-above-bytes", Section, nameof(ScanOptions.RollupAboveBytes), Defaults.RollupAboveBytes,
            "read smaps_rollup (totals) + maps (layout) instead of smaps for processes whose Rss is above this many bytes; 0: never");

        public static Flag Resident { get; } = Flag.For("--scan.resident", Section, nameof(ScanOptions.Resident), Defaults.Resident,
            "where resident figures come from between smaps reads: pagemap (pages outside the Java heap, statm for the heap: no walk of the heap; JVMs whose heap is known exactly, smaps for the rest), smaps (the last smaps read's figures), auto (per process, pagemap while it measures cheaper than the process's smaps read)");

        public static IReadOnlyList<Flag> All { get; } = [ProcFs, SysFs, CgroupFs, Interval, Smaps, SmapsInterval, RollupAboveBytes, Resident];
    }
}

internal sealed class ScanOptionsValidator : IValidateOptions<ScanOptions>
{
    public ValidateOptionsResult Validate(string? name, ScanOptions options)
    {
        var failures = new List<string>();
        if (!PrometheusDuration.TryParse(options.Interval, out TimeSpan interval) || interval <= TimeSpan.Zero)
        {
            failures.Add($"{ScanOptions.Flags.Interval.Describe()}: '{options.Interval}' is not a positive duration like 500ms, 15s, 1m or 1h30m");
        }

        if (!PrometheusDuration.TryParse(options.SmapsInterval, out _))
        {
            failures.Add($"{ScanOptions.Flags.SmapsInterval.Describe()}: '{options.SmapsInterval}' is not a duration like 1m or 5m (0s: every scan)");
        }

        if (ResidentModes.Parse(options.Resident) is null)
        {
            failures.Add($"{ScanOptions.Flags.Resident.Describe()}: '{options.Resident}' is not auto, smaps or pagemap");
        }

        if (options.RollupAboveBytes < 0)
        {
            failures.Add($"{ScanOptions.Flags.RollupAboveBytes.Describe()}: {options.RollupAboveBytes} is negative (0 turns it off)");
        }

        if (string.IsNullOrEmpty(options.ProcFs) || !File.Exists(Path.Combine(options.ProcFs, "stat")))
        {
            failures.Add($"{ScanOptions.Flags.ProcFs.Describe()}: '{options.ProcFs}' is not a procfs mount (no stat file in it)");
        }

        // The one sysfs file the daemon reads (mapsexporter_host_cpus).
        if (string.IsNullOrEmpty(options.SysFs) || !File.Exists(HostCpus.OnlinePath(options.SysFs)))
        {
            failures.Add($"{ScanOptions.Flags.SysFs.Describe()}: '{options.SysFs}' is not a sysfs mount (no {HostCpus.OnlinePath(options.SysFs)})");
        }

        if (string.IsNullOrEmpty(options.CgroupFs) || !Directory.Exists(options.CgroupFs))
        {
            failures.Add($"{ScanOptions.Flags.CgroupFs.Describe()}: '{options.CgroupFs}' is not a directory");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
