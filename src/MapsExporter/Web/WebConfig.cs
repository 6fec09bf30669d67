namespace MapsExporter.Web;

/// <summary>
/// <c>--web.config.file</c>: the Prometheus exporter-toolkit web configuration file
/// (docs: https://github.com/prometheus/exporter-toolkit/blob/master/docs/web-configuration.md). Supported keys:
/// <code>
/// tls_server_config:
///   cert_file: server.crt          # PEM; relative paths are relative to this file (or cert: inline PEM)
///   key_file: server.key           # PEM, unencrypted (or key: inline PEM)
///   client_auth_type: NoClientCert # or RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert
///   client_ca_file: ca.crt         # for the two Verify types (or client_ca: inline PEM)
///   client_allowed_sans: [a.example]  # a client certificate must carry one of these SANs (DNS, email, IP, URI)
///   min_version: TLS12             # or TLS13
///   max_version: TLS13
///   cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]   # TLS 1.2 suites, Go's names
///   curve_preferences: [X25519]    # checked; see TlsServerConfig
///   prefer_server_cipher_suites: true
/// http_server_config:
///   http2: true
///   headers: {X-Frame-Options: deny}   # only the toolkit's five security headers
/// basic_auth_users:
///   alice: $2y$10$...              # bcrypt hash
/// </code>
/// Any other key is an error (the toolkit is as strict), so a typo never leaves the endpoint open.
/// </summary>
internal sealed record WebConfig(TlsServerConfig? Tls, HttpServerConfig Http, IReadOnlyDictionary<string, string> BasicAuthUsers)
{
    public static WebConfig None { get; } = new(null, HttpServerConfig.Default, new Dictionary<string, string>());

    /// <summary>Reads and checks the file, loading the certificates. Throws <see cref="WebConfigException"/> with one line saying what is wrong.</summary>
    public static WebConfig Load(string path) => Load(path, WebConfigFiles.Disk);

    /// <summary>As <see cref="Load(string)"/>, every file read through <paramref name="files"/>.</summary>
    public static WebConfig Load(string path, WebConfigFiles files)
    {
        string text;
        try
        {
            text = files.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new WebConfigException($"cannot read {path}: {e.Message}");
        }

        return Parse(text, path, files);
    }

    /// <summary>The file's text; <paramref name="path"/> names it in messages and anchors its relative paths.</summary>
    public static WebConfig Parse(string text, string path, WebConfigFiles? files = null)
    {
        WebConfigYaml.Mapping root;
        try
        {
            root = WebConfigYaml.Parse(text);
        }
        catch (FormatException e)
        {
            throw new WebConfigException($"{path} {e.Message}");
        }

        string directory = Path.GetDirectoryName(Path.GetFullPath(path)) ?? "/";
        TlsServerConfig? tls = null;
        HttpServerConfig http = HttpServerConfig.Default;
        var users = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in root.Entries)
        {
            switch (key)
            {
                case "tls_server_config":
                    tls = TlsServerConfig.From(Section(path, root, key, value), path, directory, files ?? WebConfigFiles.Disk);
                    break;
                case "http_server_config":
                    http = HttpServerConfig.From(Section(path, root, key, value), path);
                    break;
                case "basic_auth_users":
                    WebConfigYaml.Mapping section = Section(path, root, key, value);
                    foreach (var (user, hash) in section.Entries)
                    {
                        users[user] = CheckHash(path, user, hash as string);
                    }

                    break;
                default:
                    throw new WebConfigException($"{path} line {root.Lines[key]}: unknown or unsupported key '{key}' (supported: tls_server_config, http_server_config, basic_auth_users)");
            }
        }

        if (tls is not null && http.Http2)
        {
            tls.CheckHttp2Ciphers(path);
        }

        return new WebConfig(tls, http, users);
    }

    internal static WebConfigYaml.Mapping Section(string path, WebConfigYaml.Mapping parent, string key, object value) => value switch
    {
        WebConfigYaml.Mapping map => map,
        "" => new WebConfigYaml.Mapping(),
        WebConfigYaml.Sequence list => throw new WebConfigException($"{path} line {list.Line}: '{key}' must be a mapping, not a list"),
        _ => throw new WebConfigException($"{path} line {parent.Lines[key]}: '{key}' must be a mapping"),
    };

    /// <summary>A text value of a section, or one line naming the key.</summary>
    internal static string Text(string path, string section, WebConfigYaml.Mapping map, string key, object value) =>
        value as string ?? throw new WebConfigException($"{path} line {map.Lines[key]}: {section}: '{key}' must be text, not a list or mapping");

    /// <summary>A list value (a single text value is a list of one, as people write it).</summary>
    internal static IReadOnlyList<string> List(string path, string section, WebConfigYaml.Mapping map, string key, object value) => value switch
    {
        WebConfigYaml.Sequence list => list.Items,
        "" => [],
        string one => [one],
        _ => throw new WebConfigException($"{path} line {map.Lines[key]}: {section}: '{key}' must be a list"),
    };

    /// <summary>YAML 1.1's booleans, as the toolkit's Go YAML reads them.</summary>
    internal static bool Boolean(string path, string section, WebConfigYaml.Mapping map, string key, object value) => Text(path, section, map, key, value) switch
    {
        "true" or "True" or "TRUE" or "yes" or "Yes" or "YES" or "on" or "On" or "ON" => true,
        "false" or "False" or "FALSE" or "no" or "No" or "NO" or "off" or "Off" or "OFF" => false,
        var other => throw new WebConfigException($"{path} line {map.Lines[key]}: {section}: '{key}' must be true or false, not '{other}'"),
    };

    private static string CheckHash(string path, string user, string? hash)
    {
        // bcrypt's modular crypt format: $2a$, $2b$ or $2y$, a two-digit cost, 53 characters of salt and hash.
        if (hash is null || hash.Length != 60 || !(hash.StartsWith("$2a$", StringComparison.Ordinal) || hash.StartsWith("$2b$", StringComparison.Ordinal) || hash.StartsWith("$2y$", StringComparison.Ordinal)) || hash[6] != '$')
        {
            throw new WebConfigException($"{path}: basic_auth_users: the password of '{user}' must be a bcrypt hash ($2y$..., 60 characters; e.g. htpasswd -nbBC 10 '' PASSWORD | tr -d ':\\n')");
        }

        return hash;
    }
}

/// <summary>
/// A web config file that cannot be used; the message is one line: control characters of the file's keys and values
/// (a YAML key can hold a line break) are written as \xNN (found by the webconfig fuzz target).
/// </summary>
internal sealed class WebConfigException(string message) : Exception(OneLine(message))
{
    private static string OneLine(string message) =>
        message.Any(char.IsControl) ? string.Concat(message.Select(c => char.IsControl(c) ? $"\\x{(int)c:x2}" : c.ToString())) : message;
}
