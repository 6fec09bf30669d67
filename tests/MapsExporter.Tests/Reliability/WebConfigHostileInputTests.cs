using CsCheck;
using MapsExporter.Tests.Support;
using MapsExporter.Web;

namespace MapsExporter.Tests.Reliability;

/// <summary>The toolkit's files flipped, cut and spliced (CsCheck): the loader answers with a config or one line, never anything else.</summary>
public sealed class WebConfigHostileInputTests
{
    private static readonly string Folder = Path.Combine(RepoPaths.Fixtures, "exporter-toolkit");

    private const string Noise = " :-[]{}&*!|>'\"#\t\n\0a";

    private static readonly string[] Files = [.. Directory.GetFiles(Folder).Where(f => f.EndsWith(".yml", StringComparison.Ordinal) || f.EndsWith(".yaml", StringComparison.Ordinal)).Select(f => File.ReadAllText(f))];

    [Fact]
    public void Mutated_toolkit_files_give_a_config_or_one_line()
    {
        var file = Gen.Int[0, Files.Length - 1].Select(i => Files[i]);
        var mutated = Gen.Select(file, file, Gen.Double[0, 1], Gen.Double[0, 1], Gen.Int[0, 8], Gen.Int, (a, b, cutA, cutB, flips, seed) =>
        {
            var random = new Random(seed);
            char[] text = (a[..(int)(a.Length * cutA)] + b[(int)(b.Length * cutB)..]).ToCharArray();
            for (int i = 0; i < flips && text.Length > 0; i++)
            {
                text[random.Next(text.Length)] = Noise[random.Next(Noise.Length)];
            }

            return new string(text);
        });
        mutated.Sample(yaml =>
        {
            try
            {
                WebConfig.Parse(yaml, Path.Combine(Folder, "mutated.yml"));
            }
            catch (WebConfigException e)
            {
                Assert.DoesNotContain('\n', e.Message);
            }
        }, iter: 3000);
    }
}
