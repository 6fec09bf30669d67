using System.Text;

namespace MapsExporter.Web;

/// <summary>
/// The YAML subset a Prometheus exporter-toolkit web config uses: nested block mappings by indentation, plain,
/// single- and double-quoted scalars, <c>#</c> comments, an optional <c>---</c> first line, and <c>{}</c> for an
/// empty mapping. Hand-written (about 150 lines) instead of YamlDotNet, whose deserializer is reflection-based and
/// not Native AOT safe. Anything outside the subset (sequences, anchors, multi-line scalars, tabs) is an error
/// naming the line, never a silent misreading.
/// </summary>
internal static class WebConfigYaml
{
    /// <summary>A mapping node: keys in file order; values are <see cref="string"/> or a nested mapping.</summary>
    internal sealed class Mapping
    {
        public List<KeyValuePair<string, object>> Entries { get; } = [];

        public Dictionary<string, int> Lines { get; } = new(StringComparer.Ordinal);
    }

    public static Mapping Parse(string text)
    {
        var root = new Mapping();
        // Each open mapping with the indentation of its keys (-1 until its first key fixes it).
        var stack = new List<(Mapping Map, int Indent)> { (root, 0) };
        (Mapping Parent, string Key, int Indent, int Line)? pending = null; // a "key:" whose value is a nested block
        string[] lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        for (int n = 1; n <= lines.Length; n++)
        {
            string raw = lines[n - 1];
            string line = StripComment(raw, n).TrimEnd();
            if (line.Trim().Length == 0 || (n == 1 && line == "---"))
            {
                continue;
            }

            if (line.Contains('\t', StringComparison.Ordinal) && line.TrimStart(' ').StartsWith('\t'))
            {
                throw new FormatException($"line {n}: tabs cannot indent YAML");
            }

            int indent = line.Length - line.TrimStart(' ').Length;
            string content = line[indent..];
            if (content.StartsWith('-') || content.StartsWith('&') || content.StartsWith('*') || content.StartsWith('|') || content.StartsWith('>'))
            {
                throw new FormatException($"line {n}: sequences, anchors and block scalars are not supported here");
            }

            if (pending is { } open)
            {
                if (indent <= open.Indent)
                {
                    Add(open.Parent, open.Key, "", open.Line); // "key:" with nothing under it: null, read as empty
                    pending = null;
                }
                else
                {
                    var child = new Mapping();
                    Add(open.Parent, open.Key, child, open.Line);
                    stack.Add((child, indent));
                    pending = null;
                }
            }

            while (stack.Count > 1 && indent < stack[^1].Indent)
            {
                stack.RemoveAt(stack.Count - 1);
            }

            if (indent != stack[^1].Indent)
            {
                throw new FormatException($"line {n}: unexpected indentation");
            }

            int colon = FindKeyColon(content);
            if (colon < 0)
            {
                throw new FormatException($"line {n}: expected 'key: value'");
            }

            string key = Unquote(content[..colon].Trim(), n);
            string value = content[(colon + 1)..].Trim();
            if (value.Length == 0)
            {
                pending = (stack[^1].Map, key, indent, n);
            }
            else if (value == "{}")
            {
                Add(stack[^1].Map, key, new Mapping(), n);
            }
            else
            {
                Add(stack[^1].Map, key, Unquote(value, n), n);
            }
        }

        if (pending is { } last)
        {
            Add(last.Parent, last.Key, "", last.Line);
        }

        return root;
    }

    private static void Add(Mapping map, string key, object value, int line)
    {
        if (!map.Lines.TryAdd(key, line))
        {
            throw new FormatException($"line {line}: key '{key}' appears twice");
        }

        map.Entries.Add(new KeyValuePair<string, object>(key, value));
    }

    /// <summary>The colon that ends the key: the first ": " (or final ":") outside quotes.</summary>
    private static int FindKeyColon(string content)
    {
        char quote = '\0';
        for (int i = 0; i < content.Length; i++)
        {
            char c = content[i];
            if (quote != '\0')
            {
                quote = c == quote ? '\0' : quote;
            }
            else if (c is '"' or '\'' && i == 0)
            {
                quote = c;
            }
            else if (c == ':' && (i + 1 == content.Length || content[i + 1] == ' '))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>The line without a comment: a '#' at its start or after a space, outside quotes.</summary>
    private static string StripComment(string line, int n)
    {
        char quote = '\0';
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quote != '\0')
            {
                if (c == '\\' && quote == '"')
                {
                    i++;
                }
                else if (c == quote)
                {
                    quote = '\0';
                }
            }
            else if (c is '"' or '\'' && (i == 0 || line[i - 1] is ' ' or ':'))
            {
                quote = c;
            }
            else if (c == '#' && (i == 0 || line[i - 1] == ' '))
            {
                return line[..i];
            }
        }

        return quote == '\0' ? line : throw new FormatException($"line {n}: unterminated quoted string");
    }

    private static string Unquote(string value, int n)
    {
        if (value.Length >= 2 && value[0] == '\'' && value[^1] == '\'')
        {
            return value[1..^1].Replace("''", "'", StringComparison.Ordinal);
        }

        if (value.Length >= 2 && value[0] == '"' && value[^1] == '"')
        {
            var text = new StringBuilder();
            for (int i = 1; i < value.Length - 1; i++)
            {
                char c = value[i];
                if (c != '\\')
                {
                    text.Append(c);
                    continue;
                }

                if (++i >= value.Length - 1)
                {
                    throw new FormatException($"line {n}: bad escape in a quoted string");
                }

                text.Append(value[i] switch
                {
                    'n' => '\n',
                    't' => '\t',
                    '"' => '"',
                    '\\' => '\\',
                    '/' => '/',
                    _ => throw new FormatException($"line {n}: unsupported escape \\{value[i]}"),
                });
            }

            return text.ToString();
        }

        if (value.StartsWith('"') || value.StartsWith('\'') || value.StartsWith('[') || value.StartsWith('{'))
        {
            throw new FormatException($"line {n}: unsupported value {value} (flow collections and unterminated quotes are not supported)");
        }

        return value;
    }
}
