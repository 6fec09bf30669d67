using System.Globalization;
using System.Text;
using MapsExporter.Core.Reporting;
using MapsExporter.Web;

namespace MapsExporter.MemoryConsole;

/// <summary>A process's resident total over the window as a tiny inline SVG line, its range in the tooltip.</summary>
internal static class Sparkline
{
    private const int Width = 120, Height = 24;

    /// <summary>Empty when fewer than two known figures (nothing to draw yet).</summary>
    public static string Render(int pid, long[] totals)
    {
        long[] known = [.. totals.Where(v => v != HistoryColumns.Unknown)];
        if (known.Length < 2)
        {
            return "";
        }

        long min = known.Min(), max = known.Max();
        double span = Math.Max(1, max - min);
        var points = new StringBuilder();
        for (int i = 0; i < known.Length; i++)
        {
            double x = 1 + ((Width - 2) * i / (double)(known.Length - 1));
            double y = Height - 2 - ((Height - 4) * (known[i] - min) / span);
            points.Append(CultureInfo.InvariantCulture, $"{x:F1},{y:F1} ");
        }

        string title = $"resident total over the window: {LandingPage.Bytes(known[0])} then {LandingPage.Bytes(known[^1])} ({known.Length} scans; lowest {LandingPage.Bytes(min)}, highest {LandingPage.Bytes(max)})";
        return string.Create(CultureInfo.InvariantCulture,
            $"<svg class=\"spark\" data-pid=\"{pid}\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\"><title>{title}</title><polyline fill=\"none\" stroke=\"#333\" stroke-width=\"1.5\" points=\"{points.ToString().TrimEnd()}\"/></svg>");
    }
}
