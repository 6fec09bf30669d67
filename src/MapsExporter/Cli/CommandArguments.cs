namespace MapsExporter.Cli;

/// <summary>
/// The one-off commands' arguments (<c>report</c>, <c>diff</c>): options that take a value (<c>--name value</c> or
/// <c>--name=value</c>), switches, <c>-h</c>/<c>--help</c>, and operands. The first mistake is the error to print.
/// </summary>
internal sealed class CommandArguments
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _switches = new(StringComparer.Ordinal);

    private CommandArguments()
    {
    }

    public List<string> Operands { get; } = [];

    public bool Help { get; private set; }

    /// <summary>What is wrong with the arguments, or null.</summary>
    public string? Error { get; private set; }

    /// <summary>
    /// The arguments of <c>mapsexporter <paramref name="command"/></c>, or null when they asked for help (printed,
    /// <paramref name="exit"/> success) or hold a mistake (printed, <paramref name="exit"/> the usage error).
    /// </summary>
    public static CommandArguments? Parse(
        string[] args, IReadOnlySet<string> valueOptions, IReadOnlySet<string> switches, string command, string usage, TextWriter stdout, TextWriter stderr, out int exit)
    {
        CommandArguments parsed = Parse(args, valueOptions, switches);
        exit = ExitCodes.Success;
        if (parsed.Help)
        {
            stdout.WriteLine(usage);
            return null;
        }

        if (parsed.Error is { } error)
        {
            exit = UsageError(stderr, command, error);
            return null;
        }

        return parsed;
    }

    /// <summary>Prints <paramref name="message"/> and where the usage is; the usage error's exit code.</summary>
    public static int UsageError(TextWriter stderr, string command, string message)
    {
        stderr.WriteLine($"mapsexporter: {message}");
        stderr.WriteLine($"Run 'mapsexporter {command} --help' for usage.");
        return ExitCodes.Usage;
    }

    private static CommandArguments Parse(string[] args, IReadOnlySet<string> valueOptions, IReadOnlySet<string> switches)
    {
        var parsed = new CommandArguments();
        for (int i = 0; i < args.Length && parsed.Error is null && !parsed.Help; i++)
        {
            string arg = args[i];
            int equals = arg.IndexOf('=', StringComparison.Ordinal);
            string name = arg.StartsWith("--", StringComparison.Ordinal) && equals > 0 ? arg[..equals] : arg;
            if (arg is "-h" or "--help")
            {
                parsed.Help = true;
            }
            else if (switches.Contains(arg))
            {
                parsed._switches.Add(arg);
            }
            else if (valueOptions.Contains(name) && name.Length < arg.Length)
            {
                parsed._values[name] = arg[(equals + 1)..];
            }
            else if (valueOptions.Contains(arg))
            {
                if (i + 1 >= args.Length)
                {
                    parsed.Error = $"{arg} needs a value";
                }
                else
                {
                    parsed._values[arg] = args[++i];
                }
            }
            else if (arg.StartsWith('-') && arg.Length > 1)
            {
                parsed.Error = $"unknown option {arg}";
            }
            else
            {
                parsed.Operands.Add(arg);
            }
        }

        return parsed;
    }

    public string Value(string option, string fallback) => _values.GetValueOrDefault(option, fallback);

    public bool Has(string option) => _switches.Contains(option);
}
