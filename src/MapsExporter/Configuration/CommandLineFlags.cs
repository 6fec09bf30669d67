using System.Text;

namespace MapsExporter.Configuration;

/// <summary>
/// A table of flags, composed by the host from each feature's own (<see cref="Flag"/>): what <c>AddCommandLine</c> maps,
/// what is unknown, which earlier spellings were used, and the lines of <c>--help</c>.
/// </summary>
internal sealed class CommandLineFlags
{
    private readonly Dictionary<string, Flag> _byName = new(StringComparer.Ordinal);

    public CommandLineFlags(IEnumerable<Flag> flags)
    {
        All = [.. flags];
        foreach (Flag flag in All)
        {
            _byName.Add(flag.Name, flag);
            if (flag.OldName is { } old)
            {
                _byName.Add(old, flag);
            }
        }

        SwitchMappings = _byName.ToDictionary(pair => pair.Key, pair => pair.Value.Key, StringComparer.Ordinal);
    }

    public IReadOnlyList<Flag> All { get; }

    /// <summary>For <c>AddCommandLine(args, SwitchMappings)</c>: every spelling, the earlier ones too, to its key.</summary>
    public IDictionary<string, string> SwitchMappings { get; }

    /// <summary>The flag that sets <paramref name="key"/> (e.g. <c>Scan:Interval</c>), for error messages; the key itself when none does.</summary>
    public string Describe(string key) =>
        All.FirstOrDefault(f => string.Equals(f.Key, key, StringComparison.OrdinalIgnoreCase))?.Describe() ?? key;

    /// <summary>Null when every argument is a known flag with a value, else what is wrong with the first that is not.</summary>
    public string? FindUnknown(IReadOnlyList<string> args) => Read(args).Problem;

    /// <summary>The flags <paramref name="args"/> sets by an earlier spelling, each once, in the order first used.</summary>
    public IReadOnlyList<Flag> FindOldSpellings(IReadOnlyList<string> args) =>
        [.. Read(args).Names.Where(name => _byName[name].OldName == name).Distinct(StringComparer.Ordinal).Select(name => _byName[name])];

    public string Usage()
    {
        var text = new StringBuilder();
        int width = All.Max(f => f.Name.Length) + "=VALUE".Length;
        foreach (Flag flag in All)
        {
            string def = flag.Default.Length == 0 ? "" : $"default {flag.Default}";
            string was = flag.OldName is null ? "" : $"formerly {flag.OldName}";
            string notes = string.Join(", ", new[] { def, was }.Where(n => n.Length > 0));
            text.Append("  ").Append((flag.Name + "=VALUE").PadRight(width)).Append(' ').Append(flag.Help)
                .Append(notes.Length == 0 ? "" : $" ({notes})").Append('\n');
        }

        return text.ToString();
    }

    /// <summary>The known flag names in <paramref name="args"/> up to the first argument that is not one with a value, and what is wrong with that one.</summary>
    private (List<string> Names, string? Problem) Read(IReadOnlyList<string> args)
    {
        var names = new List<string>();
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            int eq = arg.IndexOf('=', StringComparison.Ordinal);
            string name = eq < 0 ? arg : arg[..eq];
            if (!_byName.ContainsKey(name))
            {
                return (names, arg.StartsWith('-') ? $"unknown flag {name}" : $"unexpected argument '{arg}'");
            }

            if (eq < 0 && ++i >= args.Count)
            {
                return (names, $"{name} needs a value");
            }

            names.Add(name);
        }

        return (names, null);
    }
}
