using System.Globalization;

namespace MapsExporter.Configuration;

/// <summary>
/// Durations written as Prometheus writes them: units <c>y w d h m s ms</c>, each at most once, largest first
/// (<c>500ms</c>, <c>15s</c>, <c>1m</c>, <c>1h30m</c>), or <c>0</c>. A year is 365 days, as in Prometheus.
/// </summary>
internal static class PrometheusDuration
{
    private static readonly (string Unit, long Milliseconds)[] Units =
    [
        ("y", 365L * 24 * 3600 * 1000), ("w", 7L * 24 * 3600 * 1000), ("d", 24L * 3600 * 1000),
        ("h", 3600L * 1000), ("m", 60L * 1000), ("s", 1000), ("ms", 1),
    ];

    public static bool TryParse(string? text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        if (text == "0")
        {
            return true;
        }

        long total = 0;
        int lastUnit = -1;
        ReadOnlySpan<char> rest = text;
        while (!rest.IsEmpty)
        {
            int digits = 0;
            while (digits < rest.Length && char.IsAsciiDigit(rest[digits]))
            {
                digits++;
            }

            if (digits == 0 || !long.TryParse(rest[..digits], NumberStyles.None, CultureInfo.InvariantCulture, out long value))
            {
                return false;
            }

            rest = rest[digits..];
            int unit = MatchUnit(rest);
            // Each unit once, in decreasing order: "1m1h" and "1s1s" are not durations.
            if (unit <= lastUnit)
            {
                return false;
            }

            lastUnit = unit;
            rest = rest[Units[unit].Unit.Length..];
            try
            {
                total = checked(total + checked(value * Units[unit].Milliseconds));
            }
            catch (OverflowException)
            {
                return false;
            }
        }

        if (total > (long)TimeSpan.MaxValue.TotalMilliseconds)
        {
            return false;
        }

        duration = TimeSpan.FromMilliseconds(total);
        return true;
    }

    /// <summary>The shortest Prometheus spelling: 90 s is <c>1m30s</c>.</summary>
    public static string Format(TimeSpan duration)
    {
        long ms = (long)duration.TotalMilliseconds;
        if (ms == 0)
        {
            return "0s";
        }

        var text = new System.Text.StringBuilder();
        foreach (var (unit, size) in Units)
        {
            if (ms >= size)
            {
                text.Append((ms / size).ToString(CultureInfo.InvariantCulture)).Append(unit);
                ms %= size;
            }
        }

        return text.ToString();
    }

    private static int MatchUnit(ReadOnlySpan<char> rest)
    {
        // "ms" before "m": the longer unit wins.
        if (rest.StartsWith("ms", StringComparison.Ordinal))
        {
            return Units.Length - 1;
        }

        for (int i = 0; i < Units.Length - 1; i++)
        {
            if (rest.StartsWith(Units[i].Unit, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }
}
