using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace MapsExporter.Web;

/// <summary>
/// The web config file as a tree of mappings, lists and text, read by YamlDotNet's parser and representation model
/// (<see cref="YamlStream"/>): no reflection, so Native AOT and trimming stay clean, which the reflection-based
/// deserializer is not. Every error is one line naming the line of the file. Values keep their YAML meaning: a
/// plain <c>null</c>, <c>~</c> or nothing is empty text, as the toolkit's Go YAML reads it into a string.
/// </summary>
internal static class WebConfigYaml
{
    /// <summary>A mapping node: keys in file order; values are <see cref="string"/>, <see cref="Sequence"/> or a nested mapping.</summary>
    internal sealed class Mapping
    {
        public List<KeyValuePair<string, object>> Entries { get; } = [];

        /// <summary>The line of each key, for messages.</summary>
        public Dictionary<string, int> Lines { get; } = new(StringComparer.Ordinal);
    }

    /// <summary>A list of text values (cipher_suites, curve_preferences, client_allowed_sans).</summary>
    internal sealed record Sequence(IReadOnlyList<string> Items, int Line);

    /// <summary>Deeper nesting is refused before the tree is built: the representation model recurses once per level.</summary>
    public const int MaxDepth = 32;

    /// <summary>A web config is a few lines; inline certificates make it a few KB.</summary>
    public const int MaxLength = 1 << 20;

    public static Mapping Parse(string text)
    {
        // Each error's message starts "line N:" (N is ? where the library does not say).
        if (text.Length > MaxLength)
        {
            throw new FormatException($"line 1: the file is over {MaxLength >> 20} MiB; a web config is a few KB");
        }

        var stream = new YamlStream();
        try
        {
            CheckDepth(text);
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw new FormatException($"line {e.Start.Line}: {Describe(e)}");
        }
        catch (Exception e) when (e is not (FormatException or OutOfMemoryException))
        {
            // YamlDotNet 18.1.0 throws InvalidOperationException and ArgumentException on some malformed input, without
            // a position (found by WebConfigHostileInputTests): still a file that cannot be used, not a crash.
            throw new FormatException($"line ?: the YAML cannot be parsed ({e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")})");
        }

        if (stream.Documents.Count > 1)
        {
            throw new FormatException($"line {stream.Documents[1].RootNode.Start.Line}: one YAML document only");
        }

        if (stream.Documents.Count == 0 || IsNull(stream.Documents[0].RootNode))
        {
            return new Mapping(); // an empty file, or one of comments only: nothing configured
        }

        YamlNode root = stream.Documents[0].RootNode;
        return root is YamlMappingNode map
            ? Convert(map)
            : throw new FormatException($"line {root.Start.Line}: expected 'key: value' lines (a YAML mapping), not {Kind(root)}");
    }

    /// <summary>The nesting depth from the parser's events (its own state is a stack, not recursion), before any tree is built.</summary>
    private static void CheckDepth(string text)
    {
        var parser = new Parser(new StringReader(text));
        int depth = 0;
        while (parser.MoveNext())
        {
            switch (parser.Current)
            {
                case MappingStart or SequenceStart when ++depth > MaxDepth:
                    throw new FormatException($"line {parser.Current!.Start.Line}: nested more than {MaxDepth} levels deep");
                case MappingEnd or SequenceEnd:
                    depth--;
                    break;
            }
        }
    }

    private static Mapping Convert(YamlMappingNode node)
    {
        var map = new Mapping();
        foreach (var (keyNode, valueNode) in node.Children)
        {
            int line = (int)keyNode.Start.Line;
            if (keyNode is not YamlScalarNode { Value: { } key })
            {
                throw new FormatException($"line {line}: a key must be plain text, not {Kind(keyNode)}");
            }

            if (!map.Lines.TryAdd(key, line))
            {
                throw new FormatException($"line {line}: key '{key}' appears twice");
            }

            object value = valueNode switch
            {
                YamlMappingNode child => Convert(child),
                YamlSequenceNode list => new Sequence(Items(key, list), (int)list.Start.Line),
                _ => Text(valueNode),
            };
            map.Entries.Add(new KeyValuePair<string, object>(key, value));
        }

        return map;
    }

    private static List<string> Items(string key, YamlSequenceNode list)
    {
        var items = new List<string>(list.Children.Count);
        foreach (YamlNode item in list.Children)
        {
            items.Add(item is YamlScalarNode ? Text(item) : throw new FormatException($"line {item.Start.Line}: '{key}' lists text values, not {Kind(item)}"));
        }

        return items;
    }

    private static string Text(YamlNode node) => IsNull(node) ? "" : ((YamlScalarNode)node).Value ?? "";

    /// <summary>YAML's null: a plain empty, <c>~</c> or <c>null</c> scalar (quoted, they are text).</summary>
    private static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any, Value: null or "" or "~" or "null" or "Null" or "NULL" };

    private static string Kind(YamlNode node) => node switch
    {
        YamlMappingNode => "a mapping",
        YamlSequenceNode => "a list",
        _ => "text",
    };

    /// <summary>The library's message without its "(Line: 1, Col: 2, Idx: 3) - (...): " prefix, which the line number replaces.</summary>
    private static string Describe(YamlException e)
    {
        string message = e.InnerException is YamlException inner ? inner.Message : e.Message;
        int colon = message.IndexOf("): ", StringComparison.Ordinal);
        message = message.StartsWith("(Line", StringComparison.Ordinal) && colon >= 0 ? message[(colon + 3)..] : message;
        return message.ReplaceLineEndings(" ").Trim();
    }
}
