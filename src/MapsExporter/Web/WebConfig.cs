using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace MapsExporter.Web;

/// <summary>
/// <c>--web.config.file</c>: the Prometheus exporter-toolkit web configuration file. Supported keys:
/// <code>
/// tls_server_config:
///   cert_file: server.crt          # PEM; relative paths are relative to this file
///   key_file: server.key           # PEM, unencrypted
///   client_auth_type: NoClientCert # or RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert
///   client_ca_file: ca.crt         # for the two Verify types
///   min_version: TLS12             # or TLS13
///   max_version: TLS13
/// basic_auth_users:
///   alice: $2y$10$...              # bcrypt hash
/// </code>
/// Any other key is an error (the toolkit is as strict), so a typo never leaves the endpoint open.
/// </summary>
internal sealed record WebConfig(TlsServerConfig? Tls, IReadOnlyDictionary<string, string> BasicAuthUsers)
{
    public static WebConfig None { get; } = new(null, new Dictionary<string, string>());

    /// <summary>Reads and checks the file, loading the certificates. Throws <see cref="WebConfigException"/> with one line saying what is wrong.</summary>
    public static WebConfig Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new WebConfigException($"cannot read {path}: {e.Message}");
        }

        WebConfigYaml.Mapping root;
        try
        {
            root = WebConfigYaml.Parse(text);
        }
        catch (FormatException e)
        {
            throw new WebConfigException($"{path}: {e.Message}");
        }

        string directory = Path.GetDirectoryName(Path.GetFullPath(path)) ?? "/";
        TlsServerConfig? tls = null;
        var users = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in root.Entries)
        {
            switch (key)
            {
                case "tls_server_config":
                    tls = TlsServerConfig.From(Section(path, root, key, value), path, directory);
                    break;
                case "basic_auth_users":
                    foreach (var (user, hash) in Section(path, root, key, value).Entries)
                    {
                        users[user] = CheckHash(path, user, hash as string);
                    }

                    break;
                default:
                    throw new WebConfigException($"{path} line {root.Lines[key]}: unknown or unsupported key '{key}' (supported: tls_server_config, basic_auth_users)");
            }
        }

        return new WebConfig(tls, users);
    }

    internal static WebConfigYaml.Mapping Section(string path, WebConfigYaml.Mapping parent, string key, object value) => value switch
    {
        WebConfigYaml.Mapping map => map,
        "" => new WebConfigYaml.Mapping(),
        _ => throw new WebConfigException($"{path} line {parent.Lines[key]}: '{key}' must be a mapping"),
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

/// <summary>The <c>tls_server_config</c> section, with its certificate loaded.</summary>
internal sealed record TlsServerConfig(X509Certificate2 Certificate, ClientCertificateMode ClientCertificateMode, X509Certificate2Collection? ClientCas, bool VerifyClientCertificate, SslProtocols Protocols)
{
    public static TlsServerConfig From(WebConfigYaml.Mapping section, string path, string directory)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in section.Entries)
        {
            if (key is not ("cert_file" or "key_file" or "client_auth_type" or "client_ca_file" or "min_version" or "max_version"))
            {
                throw new WebConfigException($"{path} line {section.Lines[key]}: tls_server_config: unknown or unsupported key '{key}' (supported: cert_file, key_file, client_auth_type, client_ca_file, min_version, max_version)");
            }

            values[key] = value as string ?? throw new WebConfigException($"{path} line {section.Lines[key]}: tls_server_config: '{key}' must be a string");
        }

        string Get(string key) => values.TryGetValue(key, out string? v) ? v : "";
        string Resolve(string file) => Path.IsPathRooted(file) ? file : Path.Combine(directory, file);
        if (Get("cert_file").Length == 0 || Get("key_file").Length == 0)
        {
            throw new WebConfigException($"{path}: tls_server_config needs both cert_file and key_file");
        }

        X509Certificate2 certificate;
        try
        {
            certificate = X509Certificate2.CreateFromPemFile(Resolve(Get("cert_file")), Resolve(Get("key_file")));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            throw new WebConfigException($"{path}: tls_server_config: cannot load cert_file {Resolve(Get("cert_file"))} with key_file {Resolve(Get("key_file"))}: {e.Message}");
        }

        (ClientCertificateMode mode, bool verify) = Get("client_auth_type") switch
        {
            "" or "NoClientCert" => (ClientCertificateMode.NoCertificate, false),
            "RequestClientCert" => (ClientCertificateMode.AllowCertificate, false),
            "RequireAnyClientCert" => (ClientCertificateMode.RequireCertificate, false),
            "VerifyClientCertIfGiven" => (ClientCertificateMode.AllowCertificate, true),
            "RequireAndVerifyClientCert" => (ClientCertificateMode.RequireCertificate, true),
            var other => throw new WebConfigException($"{path}: tls_server_config: client_auth_type '{other}' is not one of NoClientCert, RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert"),
        };
        X509Certificate2Collection? cas = null;
        if (verify)
        {
            if (Get("client_ca_file").Length == 0)
            {
                throw new WebConfigException($"{path}: tls_server_config: client_auth_type {Get("client_auth_type")} needs client_ca_file");
            }

            try
            {
                cas = [];
                cas.ImportFromPemFile(Resolve(Get("client_ca_file")));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
            {
                throw new WebConfigException($"{path}: tls_server_config: cannot load client_ca_file {Resolve(Get("client_ca_file"))}: {e.Message}");
            }
        }

        SslProtocols min = Version(path, "min_version", Get("min_version"), SslProtocols.Tls12);
        SslProtocols max = Version(path, "max_version", Get("max_version"), SslProtocols.Tls13);
        if (min > max)
        {
            throw new WebConfigException($"{path}: tls_server_config: min_version is above max_version");
        }

        SslProtocols protocols = min == max ? min : SslProtocols.Tls12 | SslProtocols.Tls13;
        return new TlsServerConfig(certificate, mode, cas, verify, protocols);
    }

    private static SslProtocols Version(string path, string key, string value, SslProtocols empty) => value switch
    {
        "" => empty,
        "TLS12" => SslProtocols.Tls12,
        "TLS13" => SslProtocols.Tls13,
        _ => throw new WebConfigException($"{path}: tls_server_config: {key} '{value}' is not TLS12 or TLS13 (older versions are not offered)"),
    };

    /// <summary>For the two Verify client auth types: the client's chain must end at one of client_ca_file's certificates.</summary>
    public bool ValidateClient(X509Certificate2? certificate)
    {
        if (!VerifyClientCertificate || certificate is null)
        {
            return ClientCertificateMode != ClientCertificateMode.RequireCertificate || certificate is not null;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.CustomTrustStore.AddRange(ClientCas!);
        return chain.Build(certificate);
    }
}

/// <summary>A web config file that cannot be used; the message is one line.</summary>
internal sealed class WebConfigException(string message) : Exception(message);
