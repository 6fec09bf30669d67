using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace MapsExporter.Configuration;

/// <summary>Turns a bad setting's exception (at bind or at start) into one line for stderr, naming the setting by its flag (the daemon then exits <see cref="ExitCodes.Config"/>).</summary>
internal static partial class ConfigurationErrors
{
    public static string? Describe(Exception exception, CommandLineFlags flags)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case OptionsValidationException validation:
                    return string.Join("; ", validation.Failures);
                case InvalidOperationException when e.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal):
                    return DescribeConversion(e.Message, flags);
                case AggregateException aggregate when aggregate.InnerExceptions.Count > 0:
                    return Describe(aggregate.InnerExceptions[0], flags);
            }
        }

        return null;
    }

    // "Failed to convert configuration value 'x' at 'Scan:Smaps' to type 'System.Boolean'."
    private static string DescribeConversion(string message, CommandLineFlags flags)
    {
        Match match = ConversionMessage().Match(message);
        return match.Success
            ? $"{flags.Describe(match.Groups[2].Value)}: '{match.Groups[1].Value}' is not a valid {match.Groups[3].Value.Replace("System.", "", StringComparison.Ordinal).ToLowerInvariant()}"
            : message;
    }

    [GeneratedRegex("value '(.*)' at '([^']*)' to type '([^']*)'")]
    private static partial Regex ConversionMessage();
}
