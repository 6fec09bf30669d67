using MapsExporter.Core.Proc;
using MapsExporter.Core.Scanning;
using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Integration;

/// <summary>
/// One rule names a process, for selection and for the label alike: a JVM started by another launcher (a link named
/// <c>appd</c> to java: argv[0] and comm are <c>appd</c>, no <c>java</c> command line) is the main class its
/// hsperfdata names. Before, selection went by the command line and then the comm, so it was selected as one name
/// and published as another.
/// </summary>
public sealed class AppNameTests
{
    [Fact]
    public void A_jvm_started_by_another_launcher_is_selected_by_the_name_it_is_published_with()
    {
        using JavaWorkload jvm = JavaWorkload.Start(RepoPaths.Jdk17, ["-Xmx256m"], 2, launcher: "appd");
        Assert.Equal("appd", File.ReadAllText($"/proc/{jvm.Pid}/comm").TrimEnd('\n'));

        using var including = new ProcessScanner(new ProcFs(), new ProcessSelector(includeApp: "Workload"), useSmaps: false);
        ProcessSample sample = Assert.Single(including.Scan().Processes, p => p.Pid == jvm.Pid);
        Assert.Equal("Workload", sample.Report.App);

        using var excluding = new ProcessScanner(new ProcFs(), new ProcessSelector(excludeApp: "Workload"), useSmaps: false);
        Assert.DoesNotContain(excluding.Scan().Processes, p => p.Pid == jvm.Pid);
        using var byComm = new ProcessScanner(new ProcFs(), new ProcessSelector(includeApp: "appd"), useSmaps: false);
        Assert.DoesNotContain(byComm.Scan().Processes, p => p.Pid == jvm.Pid);
    }
}
