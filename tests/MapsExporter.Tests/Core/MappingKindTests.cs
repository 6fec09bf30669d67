using System.Text;
using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Core;

/// <summary>
/// MapsLineParser's kind of a mapping against <see cref="MappingKindOracle"/>'s (the kernel's rules, written apart), on
/// one real line of every form the pathname column takes in the captured maps under tests/Fixtures. The rows are the
/// output of <c>bash tests/Fixtures/path-forms.sh</c>: run it again after a new capture and paste what it prints.
/// </summary>
public sealed class MappingKindTests
{
    [Theory]
    [InlineData("(none), inode 0", "jdk17-g1-arenamax1-native-churn/maps", "687400000-6cf800000 rw-p 00000000 00:00 0 ")]
    [InlineData("/PATH, inode N", "jdk17-g1-arenamax1-native-churn/maps", "7ffb00000-7ffb75000 rw-p 00c77000 fe:00 318148                           /usr/lib/jvm/java-17-openjdk-amd64/lib/server/classes.jsa")]
    [InlineData("[heap], inode 0", "jdk17-g1-arenamax1-native-churn/maps", "56070d34e000-56070e8ed000 rw-p 00000000 00:00 0                          [heap]")]
    [InlineData("[vvar], inode 0", "jdk17-g1-arenamax1-native-churn/maps", "7f5bb7231000-7f5bb7235000 r--p 00000000 00:00 0                          [vvar]")]
    [InlineData("[vvar_vclock], inode 0", "jdk17-g1-arenamax1-native-churn/maps", "7f5bb7235000-7f5bb7237000 r--p 00000000 00:00 0                          [vvar_vclock]")]
    [InlineData("[vdso], inode 0", "jdk17-g1-arenamax1-native-churn/maps", "7f5bb7237000-7f5bb7239000 r-xp 00000000 00:00 0                          [vdso]")]
    [InlineData("[stack], inode 0", "jdk17-g1-arenamax1-native-churn/maps", "7ffd40466000-7ffd40487000 rw-p 00000000 00:00 0                          [stack]")]
    [InlineData("[vsyscall], inode 0", "jdk17-g1-arenamax1-native-churn/maps", "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]")]
    [InlineData("/memfd:NAME (deleted), inode N", "jdk17-zgc-xmx512m-t10/maps", "40000000000-40017a00000 rw-s 00000000 00:01 28                           /memfd:java_heap (deleted)")]
    public void The_parser_gives_a_captured_line_the_kind_the_kernel_rules_give(string form, string fixture, string line)
    {
        (MappingKind expected, string rule) = MappingKindOracle.Classify(line);

        Assert.Null(MapsLineParser.TryParse(Encoding.UTF8.GetBytes(line), new MappingTable(), out Mapping mapping));
        Assert.True(expected == mapping.Kind, $"{form} ({fixture}): the parser says {mapping.Kind}, the kernel's rules {expected} ({rule}): {line}");
    }

    [Fact]
    public void The_parser_gives_every_line_of_every_captured_maps_the_kind_the_kernel_rules_give()
    {
        var table = new MappingTable();
        string[] files = Directory.GetFiles(RepoPaths.Fixtures, "maps", SearchOption.AllDirectories);
        Assert.NotEmpty(files);
        foreach (string file in files)
        {
            foreach (string line in File.ReadAllLines(file))
            {
                Assert.Null(MapsLineParser.TryParse(Encoding.UTF8.GetBytes(line), table, out Mapping mapping));
                (MappingKind expected, string rule) = MappingKindOracle.Classify(line);
                Assert.True(expected == mapping.Kind, $"{file}: the parser says {mapping.Kind}, the kernel's rules {expected} ({rule}): {line}");
            }
        }
    }
}
