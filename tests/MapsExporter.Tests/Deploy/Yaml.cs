using YamlDotNet.RepresentationModel;

namespace MapsExporter.Tests.Deploy;

/// <summary>YAML documents as plain trees (dictionaries, lists, strings), parsed by YamlDotNet.</summary>
public static class Yaml
{
    public static List<object> LoadAll(string path)
    {
        var stream = new YamlStream();
        using (var reader = new StreamReader(path))
        {
            stream.Load(reader);
        }

        return stream.Documents.Select(d => Convert(d.RootNode)).ToList();
    }

    public static Dictionary<string, object> Map(object node, string what) =>
        node as Dictionary<string, object> ?? throw new Xunit.Sdk.XunitException($"{what} is not a mapping");

    public static List<object> List(object node, string what) =>
        node as List<object> ?? throw new Xunit.Sdk.XunitException($"{what} is not a list");

    /// <summary>The node at a dotted path (<c>spec.template.spec</c>); a missing key fails the test naming the path.</summary>
    public static object At(object node, string path)
    {
        foreach (string key in path.Split('.'))
        {
            Dictionary<string, object> map = Map(node, path);
            Assert.True(map.TryGetValue(key, out object? next), $"{path}: no '{key}'");
            node = next!;
        }

        return node;
    }

    public static string Text(object node, string path) => At(node, path) as string ?? throw new Xunit.Sdk.XunitException($"{path} is not a scalar");

    private static object Convert(YamlNode node) => node switch
    {
        YamlMappingNode map => map.Children.ToDictionary(p => ((YamlScalarNode)p.Key).Value!, p => Convert(p.Value)),
        YamlSequenceNode list => list.Children.Select(Convert).ToList(),
        YamlScalarNode scalar => scalar.Value ?? "",
        _ => throw new NotSupportedException(node.GetType().Name),
    };
}
