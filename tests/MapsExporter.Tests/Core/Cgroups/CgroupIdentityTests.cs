using MapsExporter.Core.Cgroups;
using MapsExporter.Core.Parsing;
using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Core.Cgroups;

/// <summary>
/// /proc/PID/cgroup of each runtime and driver, v1 and v2 (tests/Fixtures/cgroup/proc-cgroup.txt, each block naming
/// where its lines come from): the memory path, the unit, the container and the pod each one names.
/// </summary>
public sealed class CgroupIdentityTests
{
    private static readonly Dictionary<string, (string Expect, string Text)> Cases = ReadCases();

    public static TheoryData<string> CaseNames() => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Each_runtime_and_driver_is_read_from_its_own_lines(string name)
    {
        (string expect, string text) = Cases[name];
        Dictionary<string, string> expected = expect.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1]);
        ProcCgroup cgroup = ProcCgroupParser.Parse(text, name);
        CgroupIdentity id = CgroupIdentity.FromPath(cgroup.IdentityPath);
        Assert.Equal(expected["memory"], cgroup.MemoryPath);
        Assert.Equal(expected.GetValueOrDefault("unit", ""), id.SystemdUnit);
        Assert.Equal(expected.GetValueOrDefault("runtime", ""), id.ContainerRuntime);
        Assert.Equal(expected.GetValueOrDefault("id", ""), id.ContainerId);
        Assert.Equal(expected.GetValueOrDefault("pod_uid", ""), id.PodUid);
        Assert.Equal(expected.GetValueOrDefault("qos", ""), id.QosClass);
        Assert.Equal(expected.GetValueOrDefault("error", "0") == "1", id.UnknownRuntime);
        bool v1Memory = System.Text.RegularExpressions.Regex.IsMatch(text, "^[0-9]+:([^:]*,)?memory(,[^:]*)?:", System.Text.RegularExpressions.RegexOptions.Multiline);
        Assert.Equal(v1Memory, cgroup.MemoryIsV1);
    }

    [Fact]
    public void Every_runtime_driver_and_version_has_a_case()
    {
        string[] names = [.. Cases.Keys];
        foreach (string runtime in (string[])["docker", "containerd", "crio", "podman", "systemd", "kubernetes"])
        {
            Assert.Contains(names, n => n.Contains(runtime, StringComparison.Ordinal) && n.EndsWith("-v1", StringComparison.Ordinal) || n.Contains(runtime, StringComparison.Ordinal) && n.EndsWith("-v1-no-memory-accounting", StringComparison.Ordinal));
            Assert.Contains(names, n => n.Contains(runtime, StringComparison.Ordinal) && n.EndsWith("-v2", StringComparison.Ordinal) || runtime == "docker" || runtime == "containerd" && n.Contains("containerd", StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("garbage\n")]
    [InlineData("4:memory:relative/path\n")]
    [InlineData("x:memory:/a\n")]
    [InlineData("3:cpuset:/\n2:cpu:/\n")]
    public void A_file_that_does_not_parse_says_so(string text) =>
        Assert.Throws<ProcParseException>(() => ProcCgroupParser.Parse(text, "/proc/1/cgroup"));

    [Fact]
    public void A_cgroup_name_holding_colons_keeps_them()
    {
        ProcCgroup cgroup = ProcCgroupParser.Parse("0::/a:b:c\n", "t");
        Assert.Equal("/a:b:c", cgroup.MemoryPath);
    }

    private static Dictionary<string, (string, string)> ReadCases()
    {
        var cases = new Dictionary<string, (string, string)>(StringComparer.Ordinal);
        string text = File.ReadAllText(Path.Combine(RepoPaths.Fixtures, "cgroup", "proc-cgroup.txt"));
        foreach (string block in text.Split("\n## ")[1..])
        {
            string[] lines = block.Split('\n');
            string expect = lines.Single(l => l.StartsWith("# expect: ", StringComparison.Ordinal))["# expect: ".Length..];
            Assert.Contains(lines, l => l.StartsWith("# from: ", StringComparison.Ordinal));
            string content = string.Join('\n', lines[1..].Where(l => l.Length > 0 && !l.StartsWith('#'))) + "\n";
            cases.Add(lines[0].Trim(), (expect, content));
        }

        return cases;
    }
}
