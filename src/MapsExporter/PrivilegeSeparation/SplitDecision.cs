using System.Globalization;

namespace MapsExporter.PrivilegeSeparation;

/// <summary>
/// Whether the daemon splits itself, and the web side's command line. It splits when it has privilege to separate
/// (root, or any effective capability) and <c>--web.privsep</c> is not false; as root, only when nobody can run the
/// binary (a build under a private home directory cannot be: then one process, and a warning says why).
/// </summary>
internal static class SplitDecision
{
    /// <summary>Null to split; else why not, for the log (empty when there is nothing to say: unprivileged, or turned off).</summary>
    public static string? Refusal(IConfiguration configuration, IReadOnlyList<string> command)
    {
        if (configuration["Web:PrivilegeSeparation"] is { } value && bool.TryParse(value, out bool on) && !on)
        {
            return "";
        }

        bool root = LinuxCalls.GetUid() == 0;
        if (!root && EffectiveCapabilities() == 0)
        {
            return "";
        }

        if (root && command.TakeWhile(word => word != WebSide.Command).Append(Path.Combine(AppContext.BaseDirectory, "appsettings.json"))
            .FirstOrDefault(path => !ReachableByOthers(path)) is { } closed)
        {
            return $"the web side would run as nobody, who cannot read {closed}";
        }

        return null;
    }

    /// <summary>This binary again, as the web side: the executable (and, under the dotnet host, the entry assembly), then the subcommand.</summary>
    public static IReadOnlyList<string> WebSideCommand(string[] flags, bool journal)
    {
        string process = Environment.ProcessPath ?? "/proc/self/exe";
        List<string> command = [process];
        if (Path.GetFileNameWithoutExtension(process) == "dotnet")
        {
            command.Add(Path.GetFullPath(Environment.GetCommandLineArgs()[0]));
        }

        command.AddRange([WebSide.Command, "--ipc-fd", "{fd}"]);
        if (journal)
        {
            command.Add("--journal");
        }

        command.AddRange(flags);
        return command;
    }

    private static ulong EffectiveCapabilities()
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("CapEff:", StringComparison.Ordinal))
            {
                return ulong.Parse(line.AsSpan(7).Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    /// <summary>Whether a user in no group of the file's reaches it: every directory above searchable by others, the file readable.</summary>
    private static bool ReachableByOthers(string path)
    {
        if (OperatingSystem.IsWindows() || !File.Exists(path))
        {
            return true; // an optional file that is not there
        }

        if ((File.GetUnixFileMode(path) & UnixFileMode.OtherRead) == 0)
        {
            return false;
        }

        for (DirectoryInfo? dir = new FileInfo(path).Directory; dir is not null; dir = dir.Parent)
        {
            if ((dir.UnixFileMode & UnixFileMode.OtherExecute) == 0)
            {
                return false;
            }
        }

        return true;
    }
}
