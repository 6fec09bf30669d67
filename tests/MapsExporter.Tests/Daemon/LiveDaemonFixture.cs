using System.Globalization;
using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Daemon;

/// <summary>
/// Two real JVMs (JDK 17: G1, -Xmx512m, 8 threads; JDK 25: G1, -Xmx512m, 4 threads that malloc natively, so
/// glibc gives them arenas) and one daemon scanning every 500 ms, shared by the tests of a class.
/// </summary>
public sealed class LiveDaemonFixture : IAsyncLifetime
{
    public JavaWorkload Jdk17 { get; private set; } = null!;

    public JavaWorkload Jdk25 { get; private set; } = null!;

    internal RunningDaemon Daemon { get; private set; } = null!;

    public IEnumerable<JavaWorkload> Jvms => [Jdk17, Jdk25];

    public static string PidOf(JavaWorkload jvm) => jvm.Pid.ToString(CultureInfo.InvariantCulture);

    public async Task InitializeAsync()
    {
        Task<JavaWorkload> jdk17 = Task.Run(() => JavaWorkload.Start(RepoPaths.Jdk17, ["-XX:+UseG1GC", "-Xmx512m"], 8));
        Task<JavaWorkload> jdk25 = Task.Run(() => JavaWorkload.Start(RepoPaths.Jdk25, ["-XX:+UseG1GC", "-Xmx512m"], 4, ["--native-churn"]));
        Jdk17 = await jdk17;
        Jdk25 = await jdk25;
        Daemon = await RunningDaemon.StartAsync("--scan.interval=500ms");
        await Daemon.WaitForAsync(s => Jvms.All(j => s.Pids("mapsexporter_process_info").Contains(PidOf(j))), "both JVMs in /metrics");
    }

    public async Task DisposeAsync()
    {
        await Daemon.DisposeAsync();
        Jdk17.Dispose();
        Jdk25.Dispose();
    }
}

/// <summary>The test classes that share one <see cref="LiveDaemonFixture"/> (its JVMs take seconds to start).</summary>
[CollectionDefinition(Name)]
public sealed class LiveDaemonCollection : ICollectionFixture<LiveDaemonFixture>
{
    public const string Name = "live daemon";
}
