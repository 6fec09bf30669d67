namespace MapsExporter;

/// <summary>The process's exit codes, BSD sysexits where one fits (the unit's <c>RestartPreventExitStatus=78</c> relies on them).</summary>
internal static class ExitCodes
{
    public const int Success = 0;

    /// <summary>The report could not read a target, or the daemon could not start (the port is taken).</summary>
    public const int Failure = 1;

    /// <summary>EX_USAGE: an unknown command, flag or argument.</summary>
    public const int Usage = 64;

    /// <summary>EX_CONFIG: a bad setting; restarting would only fail again.</summary>
    public const int Config = 78;
}
