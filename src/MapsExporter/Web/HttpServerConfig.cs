namespace MapsExporter.Web;

/// <summary>
/// The <c>http_server_config</c> section: <c>http2</c> (on by default; only over TLS, as the toolkit serves it) and
/// <c>headers</c> set on every response. As in the toolkit, only five security headers may be set, two of them to
/// fixed values: a web config must not be able to change what a response means (Content-Type, Content-Encoding...).
/// </summary>
internal sealed record HttpServerConfig(bool Http2, IReadOnlyList<KeyValuePair<string, string>> Headers)
{
    private const string Section = "http_server_config";

    /// <summary>Header name, and its allowed values (empty: any).</summary>
    private static readonly Dictionary<string, string[]> Allowed = new(StringComparer.Ordinal)
    {
        ["Strict-Transport-Security"] = [],
        ["X-Content-Type-Options"] = ["nosniff"],
        ["X-Frame-Options"] = ["deny", "sameorigin"],
        ["X-XSS-Protection"] = [],
        ["Content-Security-Policy"] = [],
    };

    public static HttpServerConfig Default { get; } = new(true, []);

    public static HttpServerConfig From(WebConfigYaml.Mapping section, string path)
    {
        bool http2 = true;
        var headers = new List<KeyValuePair<string, string>>();
        foreach (var (key, value) in section.Entries)
        {
            switch (key)
            {
                case "http2":
                    http2 = WebConfig.Boolean(path, Section, section, key, value);
                    break;
                case "headers":
                    WebConfigYaml.Mapping map = WebConfig.Section(path, section, key, value);
                    foreach (var (name, headerValue) in map.Entries)
                    {
                        headers.Add(new(name, Check(path, map, name, WebConfig.Text(path, "http_server_config.headers", map, name, headerValue))));
                    }

                    break;
                default:
                    throw new WebConfigException($"{path} line {section.Lines[key]}: {Section}: unknown or unsupported key '{key}' (supported: http2, headers)");
            }
        }

        return new HttpServerConfig(http2, headers);
    }

    private static string Check(string path, WebConfigYaml.Mapping map, string name, string value)
    {
        if (!Allowed.TryGetValue(name, out string[]? values))
        {
            throw new WebConfigException($"{path} line {map.Lines[name]}: HTTP header \"{name}\" can not be configured (only {string.Join(", ", Allowed.Keys)})");
        }

        if (values.Length > 0 && !values.Contains(value, StringComparer.Ordinal))
        {
            throw new WebConfigException($"{path} line {map.Lines[name]}: invalid value for {name}: expected one of {string.Join(", ", values)}, but got \"{value}\"");
        }

        // Kestrel refuses control characters at response time: say so now, not as a 500 on every scrape.
        if (value.Any(c => c is < ' ' and not '\t' or > '~'))
        {
            throw new WebConfigException($"{path} line {map.Lines[name]}: the value of {name} holds a control or non-ASCII character");
        }

        return value;
    }
}
