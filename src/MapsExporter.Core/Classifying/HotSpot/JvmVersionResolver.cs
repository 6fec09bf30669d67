using System.Text;
using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Core.Proc;

namespace MapsExporter.Core.Classifying.HotSpot;

/// <summary>
/// The Java version of a JVM: <c>JAVA_VERSION</c> of the JDK's <c>release</c> file, found above the mapped
/// <c>libjvm.so</c> (<c>JDK/lib/server/libjvm.so</c>; JDK 8: <c>JDK/jre/lib/amd64/server/libjvm.so</c>) and read
/// through <c>/proc/PID/root</c>, so a JVM in a container resolves against its own filesystem.
/// </summary>
public static class JvmVersionResolver
{
    public const int MaxLength = 64;
    private const int MaxLevels = 5;
    private const int MaxReleaseBytes = 64 * 1024;

    /// <summary>The version, or null when there is no libjvm.so path, no release file or no JAVA_VERSION in it.</summary>
    public static string? Resolve(ProcFs procFs, int pid, MappingTable table)
    {
        string? libjvm = LibJvmPath(table);
        if (libjvm is null)
        {
            return null;
        }

        string root = procFs.PidPath(pid, "root");
        string? dir = Path.GetDirectoryName(libjvm);
        for (int level = 0; level < MaxLevels && !string.IsNullOrEmpty(dir) && dir != "/"; level++)
        {
            string release = root + dir + "/release";
            try
            {
                if (File.Exists(release))
                {
                    return ParseJavaVersion(ReadPrefix(release));
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return null;
            }

            dir = Path.GetDirectoryName(dir);
        }

        return null;
    }

    /// <summary>The mapped libjvm.so's path, unless it was deleted (then the file on disk is another JDK).</summary>
    public static string? LibJvmPath(MappingTable table)
    {
        foreach (ref readonly Mapping m in table.Items)
        {
            string? path = table.PathOf(m);
            if (m.Kind == MappingKind.File && path is not null && path.StartsWith('/') && JvmDetector.IsLibJvm(path))
            {
                return path.EndsWith(" (deleted)", StringComparison.Ordinal) ? null : path;
            }
        }

        return null;
    }

    /// <summary><c>JAVA_VERSION="17.0.15"</c> → <c>17.0.15</c>; only <c>[0-9A-Za-z._+-]</c> is kept, so the value is safe as a label.</summary>
    public static string? ParseJavaVersion(string releaseText)
    {
        foreach (string raw in releaseText.Split('\n'))
        {
            string line = raw.Trim();
            if (!line.StartsWith("JAVA_VERSION=", StringComparison.Ordinal))
            {
                continue;
            }

            var builder = new StringBuilder(MaxLength);
            foreach (char c in line.AsSpan("JAVA_VERSION=".Length).Trim('"'))
            {
                if (builder.Length == MaxLength)
                {
                    break;
                }

                if (char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '+' or '-')
                {
                    builder.Append(c);
                }
            }

            return builder.Length == 0 ? null : builder.ToString();
        }

        return null;
    }

    private static string ReadPrefix(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0);
        byte[] buffer = new byte[MaxReleaseBytes];
        int length = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        return Encoding.UTF8.GetString(buffer, 0, length);
    }
}
