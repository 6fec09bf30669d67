namespace MapsExporter.Tests.Support;

/// <summary>Paths inside the repository and to the JDKs the tests start.</summary>
public static class RepoPaths
{
    public const string Jdk17 = "/usr/lib/jvm/java-17-openjdk-amd64";
    public const string Jdk25 = "/usr/lib/jvm/temurin-25-jdk-amd64";

    /// <summary>Debian's Zero VM (no JIT), extracted by scripts/jdk17-zero.sh (scripts/test.sh runs it).</summary>
    public static string Jdk17Zero { get; } = Environment.GetEnvironmentVariable("MAPSEXPORTER_JDK17_ZERO") is { Length: > 0 } dir
        ? dir : "/var/cache/mapsexporter-tests/jdk17-zero/usr/lib/jvm/java-17-openjdk-amd64";

    public static string Root { get; } = FindRoot();

    public static string Workloads => Path.Combine(Root, "tests", "workloads");

    public static string Fixtures => Path.Combine(Root, "tests", "Fixtures");

    public static string Fixture(string name, string file) => Path.Combine(Fixtures, name, file);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "MapsExporter.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("MapsExporter.sln not found above " + AppContext.BaseDirectory);
    }
}
