using System.Text;

namespace MapsExporter.Core.Parsing;

/// <summary>
/// Names a process without leaking its arguments: for a <c>java</c> launcher the main class, the jar's file
/// name or the module's main class; else the comm. Never any other argument, option value or environment.
/// </summary>
public static class AppNameResolver
{
    public const int MaxLength = 128;

    // Launcher options whose value is the next argument (java -help / --help-extra).
    private static readonly string[] OptionsWithValue =
    [
        "-cp", "-classpath", "--class-path", "-p", "--module-path", "--upgrade-module-path", "--add-modules",
        "--enable-native-access", "--limit-modules", "--add-reads", "--add-exports", "--add-opens", "--patch-module",
        "--source", "-d", "--describe-module", "--illegal-native-access",
    ];

    /// <summary>
    /// The one rule naming a process, for selection (<c>--selection.include-app</c>) and for the label and the
    /// report alike: the JVM's main class from its hsperfdata (right for any launcher: jsvc, jpackage, embedders),
    /// else the main class or jar of a <c>java</c> command line, else the comm.
    /// </summary>
    public static string Choose(string? perfDataMainClass, string? javaCommandLineName, string comm) =>
        perfDataMainClass ?? javaCommandLineName ?? comm;

    /// <summary>The main class or jar name from a NUL-separated <c>/proc/PID/cmdline</c>, or null if it is not a java launcher.</summary>
    public static string? FromJavaCommandLine(ReadOnlySpan<byte> cmdline)
    {
        int index = 0;
        bool expectValue = false;
        string? pendingKind = null;
        foreach (Range range in cmdline.Split((byte)0))
        {
            ReadOnlySpan<byte> arg = cmdline[range];
            if (index++ == 0)
            {
                string launcher = Encoding.UTF8.GetString(BaseName(arg));
                if (launcher is not ("java" or "javaw"))
                {
                    return null;
                }

                continue;
            }

            if (arg.IsEmpty)
            {
                continue;
            }

            if (pendingKind is not null)
            {
                return pendingKind == "jar" ? Sanitize(BaseName(arg)) : Sanitize(ModuleMainClass(arg));
            }

            if (expectValue)
            {
                expectValue = false;
                continue;
            }

            if (arg.SequenceEqual("-jar"u8))
            {
                pendingKind = "jar";
                continue;
            }

            if (arg.SequenceEqual("-m"u8) || arg.SequenceEqual("--module"u8))
            {
                pendingKind = "module";
                continue;
            }

            if (arg.StartsWith("--module="u8))
            {
                return Sanitize(ModuleMainClass(arg["--module=".Length..]));
            }

            if (arg[0] == (byte)'-' || arg[0] == (byte)'@')
            {
                expectValue = IsOptionWithValue(arg);
                continue;
            }

            // The first argument that is not an option is the main class (or a source file); the rest are the app's.
            return Sanitize(BaseName(arg));
        }

        return null;
    }

    /// <summary>Makes a name safe for a label or a terminal: printable ASCII and UTF-8 letters only, bounded length.</summary>
    public static string Sanitize(ReadOnlySpan<byte> utf8)
    {
        string text = Encoding.UTF8.GetString(utf8.Length > MaxLength * 4 ? utf8[..(MaxLength * 4)] : utf8);
        return Sanitize(text);
    }

    public static string Sanitize(string text)
    {
        var builder = new StringBuilder(Math.Min(text.Length, MaxLength));
        foreach (char c in text)
        {
            if (builder.Length == MaxLength)
            {
                break;
            }

            builder.Append(char.IsControl(c) || c == '\uFFFD' ? '?' : c);
        }

        string result = builder.ToString().Trim();
        return result.Length == 0 ? "unknown" : result;
    }

    private static bool IsOptionWithValue(ReadOnlySpan<byte> arg)
    {
        foreach (string option in OptionsWithValue)
        {
            if (arg.Length == option.Length && Encoding.ASCII.GetByteCount(option) == arg.Length && Matches(arg, option))
            {
                return true;
            }
        }

        return false;
    }

    private static bool Matches(ReadOnlySpan<byte> arg, string option)
    {
        for (int i = 0; i < option.Length; i++)
        {
            if (arg[i] != option[i])
            {
                return false;
            }
        }

        return true;
    }

    private static ReadOnlySpan<byte> ModuleMainClass(ReadOnlySpan<byte> spec)
    {
        int slash = spec.IndexOf((byte)'/');
        return slash < 0 ? spec : spec[(slash + 1)..];
    }

    private static ReadOnlySpan<byte> BaseName(ReadOnlySpan<byte> path)
    {
        int slash = path.LastIndexOf((byte)'/');
        return slash < 0 ? path : path[(slash + 1)..];
    }
}
