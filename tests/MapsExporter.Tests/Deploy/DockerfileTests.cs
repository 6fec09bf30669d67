using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Deploy;

/// <summary>
/// The Dockerfile, checked by its structure (no Docker engine runs on these machines): multi-stage, built by the
/// release script, a non-root final stage that reads the host's /proc.
/// </summary>
public sealed class DockerfileTests
{
    private static readonly string[] Lines = File.ReadAllLines(Path.Combine(RepoPaths.Root, "Dockerfile"))
        .Where(l => l.Length > 0 && !l.StartsWith('#'))
        .ToArray();

    [Fact]
    public void It_builds_with_the_release_script_in_an_sdk_stage_and_runs_on_a_small_base()
    {
        string[] froms = Lines.Where(l => l.StartsWith("FROM ", StringComparison.Ordinal)).ToArray();
        Assert.Equal(2, froms.Length);
        Assert.StartsWith("FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build", froms[0], StringComparison.Ordinal);
        Assert.StartsWith("FROM mcr.microsoft.com/dotnet/runtime-deps:10.0", froms[1], StringComparison.Ordinal);
        Assert.Contains(Lines, l => l.Contains("bash deploy/publish.sh", StringComparison.Ordinal));
        Assert.True(File.Exists(Path.Combine(RepoPaths.Root, "deploy", "publish.sh")));
        Assert.Contains(Lines, l => l.StartsWith("COPY --from=build /out/ /app/", StringComparison.Ordinal));
    }

    [Fact]
    public void The_final_stage_is_not_root_and_reads_the_hosts_proc()
    {
        string[] final = Lines.SkipWhile(l => !l.Contains("runtime-deps", StringComparison.Ordinal)).ToArray();
        string user = Assert.Single(final, l => l.StartsWith("USER ", StringComparison.Ordinal))["USER ".Length..].Split(':')[0];
        Assert.NotEqual("0", user);
        Assert.NotEqual("root", user);
        Assert.Equal("ENTRYPOINT [\"/app/mapsexporter\", \"--path.procfs=/host/proc\", \"--path.cgroupfs=/host/sys/fs/cgroup\"]", Assert.Single(final, l => l.StartsWith("ENTRYPOINT", StringComparison.Ordinal)));
        Assert.Contains(final, l => l == "EXPOSE 10135");
    }

    [Fact]
    public void The_build_context_leaves_out_build_outputs_and_git()
    {
        string[] ignored = File.ReadAllLines(Path.Combine(RepoPaths.Root, ".dockerignore"));
        Assert.Contains(".git", ignored);
        Assert.Contains("artifacts", ignored);
        Assert.Contains("**/bin", ignored);
        Assert.Contains("**/obj", ignored);
    }
}
