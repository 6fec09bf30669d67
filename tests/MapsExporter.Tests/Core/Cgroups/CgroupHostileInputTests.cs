using CsCheck;
using MapsExporter.Core.Cgroups;
using MapsExporter.Core.Parsing;
using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Core.Cgroups;

/// <summary>Random text and mutated real lines: /proc/PID/cgroup parses or throws a parse error, a path never makes the identity throw.</summary>
public sealed class CgroupHostileInputTests
{
    private static readonly string[] RealLines = File.ReadAllLines(Path.Combine(RepoPaths.Fixtures, "cgroup", "proc-cgroup.txt"))
        .Where(l => l.Length > 0 && !l.StartsWith('#')).ToArray();

    private static readonly Gen<string> Mutated = Gen.Select(Gen.Int[0, RealLines.Length - 1], Gen.Int[0, 200], Gen.Char["/:-_.0123456789abcdef\n \0é"], (i, at, c) =>
    {
        string line = RealLines[i];
        int cut = Math.Min(at, line.Length);
        return line[..cut] + c + line[cut..];
    });

    [Fact]
    public void Random_and_mutated_files_throw_only_parse_errors_and_paths_never_throw() =>
        Gen.OneOf(Gen.String[0, 300], Mutated).Sample(text =>
        {
            try
            {
                ProcCgroup cgroup = ProcCgroupParser.Parse(text, "cgroup");
                _ = CgroupIdentity.FromPath(cgroup.IdentityPath);
            }
            catch (ProcParseException)
            {
            }

            _ = CgroupIdentity.FromPath(text);
            _ = new CgroupFs("/nonexistent").Absolute(text.Length > 0 && text[0] == '/' ? text : "/" + text);
        }, iter: 3000);
}
