using System.Globalization;
using System.Text;

namespace MapsExporter.Tests.Daemon;

/// <summary>One sample of a scrape: family name, labels, value.</summary>
public sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    public string? Label(string name) => Labels.TryGetValue(name, out string? value) ? value : null;
}

/// <summary>The samples of a /metrics text (format 0.0.4), parsed strictly enough to catch a broken exposition.</summary>
public sealed class MetricsScrape
{
    private MetricsScrape(string text, List<Sample> samples)
    {
        Text = text;
        Samples = samples;
    }

    public string Text { get; }

    public IReadOnlyList<Sample> Samples { get; }

    public static MetricsScrape Parse(string text)
    {
        var samples = new List<Sample>();
        foreach (string line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            int brace = line.IndexOf('{', StringComparison.Ordinal);
            int space = line.LastIndexOf(' ');
            string name = brace >= 0 ? line[..brace] : line[..space];
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            if (brace >= 0)
            {
                ParseLabels(line, brace + 1, labels);
            }

            samples.Add(new Sample(name, labels, double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture)));
        }

        return new MetricsScrape(text, samples);
    }

    public IEnumerable<Sample> Family(string name) => Samples.Where(s => s.Name == name);

    /// <summary>The single value of <paramref name="name"/> whose labels include all of <paramref name="labels"/> ("key=value").</summary>
    public double Value(string name, params string[] labels)
    {
        Sample[] matches = Find(name, labels).ToArray();
        Assert.True(matches.Length == 1, $"{matches.Length} samples of {name}{{{string.Join(',', labels)}}}");
        return matches[0].Value;
    }

    public IEnumerable<Sample> Find(string name, params string[] labels) => Family(name).Where(s => labels.All(l =>
    {
        int eq = l.IndexOf('=', StringComparison.Ordinal);
        return s.Label(l[..eq]) == l[(eq + 1)..];
    }));

    /// <summary>The PIDs that appear in the family.</summary>
    public HashSet<string> Pids(string name) => Family(name).Select(s => s.Label("pid")!).ToHashSet();

    /// <summary>Every PID in any family.</summary>
    public HashSet<string> AllPids() => Samples.Select(s => s.Label("pid")).OfType<string>().ToHashSet();

    private static void ParseLabels(string line, int index, Dictionary<string, string> labels)
    {
        while (line[index] != '}')
        {
            int eq = line.IndexOf('=', index);
            string key = line[index..eq];
            Assert.Equal('"', line[eq + 1]);
            var value = new StringBuilder();
            int i = eq + 2;
            for (; line[i] != '"'; i++)
            {
                if (line[i] == '\\')
                {
                    i++;
                    value.Append(line[i] == 'n' ? '\n' : line[i]);
                }
                else
                {
                    value.Append(line[i]);
                }
            }

            labels.Add(key, value.ToString());
            index = line[i + 1] == ',' ? i + 2 : i + 1;
        }
    }
}
