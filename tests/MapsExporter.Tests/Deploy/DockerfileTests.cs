using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Deploy;

/// <summary>
/// The Dockerfile, checked by its structure (no Docker engine runs on these machines): multi-stage, built by the
/// release script, a non-root final stage that reads the host's /proc, and both architectures from one build stage
/// that runs on the build machine's platform and cross-compiles for the target's.
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
        Assert.Equal("FROM --platform=$BUILDPLATFORM mcr.microsoft.com/dotnet/sdk:10.0 AS build", froms[0]);
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

    [Fact]
    public void One_build_stage_on_the_build_platform_cross_compiles_for_each_target_architecture()
    {
        string[] build = Lines.TakeWhile(l => !l.Contains("runtime-deps", StringComparison.Ordinal)).ToArray();
        Assert.Contains("ARG TARGETARCH", build);
        string text = string.Join('\n', build);
        // Each target's cross toolchain, chosen by TARGETARCH, and none when it is the build machine's own.
        Assert.Contains("amd64) cross=\"gcc-x86-64-linux-gnu binutils-x86-64-linux-gnu libc6-dev-amd64-cross\"", text, StringComparison.Ordinal);
        Assert.Contains("arm64) cross=\"gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu libc6-dev-arm64-cross\"", text, StringComparison.Ordinal);
        Assert.Contains("[ \"$(dpkg --print-architecture)\" = \"$TARGETARCH\" ] && cross=\"\"", text, StringComparison.Ordinal);
        Assert.Contains("clang lld", text, StringComparison.Ordinal);
        // The release script builds that one architecture (the names it knows: x64, arm64) and stamps the commit.
        Assert.Contains("ARCHS=$rid bash deploy/publish.sh -p:SourceRevision=\"$SOURCE_REVISION\"", text, StringComparison.Ordinal);
        Assert.Contains("cp \"artifacts/linux-$rid/mapsexporter\" /out/", text, StringComparison.Ordinal);
        string publish = File.ReadAllText(Path.Combine(RepoPaths.Root, "deploy", "publish.sh"));
        Assert.Contains("for arch in ${ARCHS:-x64 arm64}; do", publish, StringComparison.Ordinal);
        Assert.Contains("$out/linux-$arch/mapsexporter", publish, StringComparison.Ordinal);

        // The final stage is the target platform's (no --platform), and the README says how to build both.
        Assert.Single(Lines, l => l.StartsWith("FROM mcr.microsoft.com/dotnet/runtime-deps:10.0 AS runtime", StringComparison.Ordinal));
        Assert.DoesNotContain(Lines.SkipWhile(l => !l.Contains("runtime-deps", StringComparison.Ordinal)), l => l.Contains("--platform", StringComparison.Ordinal));
        Assert.Contains("docker buildx build --platform linux/amd64,linux/arm64", File.ReadAllText(Path.Combine(RepoPaths.Root, "README.md")), StringComparison.Ordinal);
    }
}
