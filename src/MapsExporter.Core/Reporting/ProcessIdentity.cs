namespace MapsExporter.Core.Reporting;

/// <summary>Who a process is, in terms safe to publish: PID, a name, whether it runs a JVM, when it started.</summary>
public readonly record struct ProcessIdentity(int? Pid, string App, bool IsJvm, ulong StartTimeTicks = 0)
{
    public static ProcessIdentity ForDump(string app, bool isJvm) => new(null, app, isJvm);
}
