namespace MapsExporter.Core.Proc;

/// <summary>
/// Why the daemon may not open a process's ptrace-guarded, owner-only file (<c>mem</c> and <c>pagemap</c> 0600,
/// <c>task/TID/syscall</c> 0400, the JVM's hsperfdata 0600), worded for the capabilities the daemon holds. The
/// kernel checks two things: ptrace access (root, the same user, or CAP_SYS_PTRACE; attach rights for mem and
/// syscall) and then the file mode, owned by the process's user, which CAP_SYS_PTRACE does not override: a
/// daemon that is neither root nor that user also needs CAP_DAC_READ_SEARCH. maps and smaps (0444) need only
/// the first.
/// </summary>
public static class PtraceGuardedFile
{
    private const int CapDacReadSearch = 2;
    private const int CapSysPtrace = 19;
    private static readonly Lazy<ulong?> EffectiveCapabilities = new(ReadEffectiveCapabilities);

    /// <summary>One line: the path, its mode, and what is missing to read it.</summary>
    public static string Denied(string path)
    {
        string mode = "";
        try
        {
            if (!OperatingSystem.IsWindows())
            {
                mode = $" (mode 0{Convert.ToString((int)File.GetUnixFileMode(path), 8)}, owned by the process's user)";
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Gone meanwhile, or not even stat-able: the message goes without the mode.
        }

        return $"cannot open {path}: permission denied{mode}; {Missing(EffectiveCapabilities.Value)}";
    }

    /// <summary>What to grant, given the daemon's effective capability mask (null when unknown).</summary>
    public static string Missing(ulong? effective)
    {
        bool ptrace = Has(effective, CapSysPtrace);
        bool dac = Has(effective, CapDacReadSearch);
        return (ptrace, dac) switch
        {
            (true, false) => "CAP_SYS_PTRACE lets the daemon read maps and smaps but not this owner-only file: it also needs CAP_DAC_READ_SEARCH (or run it as root)",
            (false, true) => "reading it needs CAP_SYS_PTRACE besides CAP_DAC_READ_SEARCH (or run the daemon as root)",
            (false, false) => "reading it needs CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH (or run the daemon as root or as the process's user)",
            _ => "refused although the daemon holds CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH: a security module (Yama ptrace_scope, AppArmor, SELinux) forbids it",
        };
    }

    private static bool Has(ulong? effective, int capability) => effective is { } mask && (mask & (1UL << capability)) != 0;

    /// <summary>CapEff of /proc/self/status: the daemon's own, whatever procfs it scans.</summary>
    private static ulong? ReadEffectiveCapabilities()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("CapEff:", StringComparison.Ordinal)
                    && ulong.TryParse(line.AsSpan(7).Trim(), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture, out ulong mask))
                {
                    return mask;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Unknown: the message names both capabilities.
        }

        return null;
    }
}
