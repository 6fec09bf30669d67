using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace MapsExporter.Web;

/// <summary>
/// The <c>tls_server_config</c> section, with its certificates loaded. The toolkit's rules: relative paths from the
/// file's folder; client CAs only with a client auth type that asks for a certificate; cipher_suites name TLS 1.2
/// suites (TLS 1.3's are always on, as in Go); with client_allowed_sans a presented client certificate must carry
/// one of them. curve_preferences is checked against the toolkit's names but not applied: .NET has no per-listener
/// setting for key exchange groups, so OpenSSL's defaults hold (X25519, P-256, P-384, P-521 and the like).
/// </summary>
internal sealed record TlsServerConfig(
    X509Certificate2 Certificate,
    ClientCertificateMode ClientCertificateMode,
    X509Certificate2Collection? ClientCas,
    bool VerifyClientCertificate,
    SslProtocols Protocols,
    IReadOnlyList<TlsCipherSuite> CipherSuites,
    IReadOnlyList<string> CurvePreferences,
    IReadOnlyList<string>? ClientAllowedSans)
{
    private const string Section = "tls_server_config";

    private static readonly string[] Keys =
    [
        "cert_file", "key_file", "cert", "key", "client_auth_type", "client_ca_file", "client_ca", "client_allowed_sans",
        "min_version", "max_version", "cipher_suites", "curve_preferences", "prefer_server_cipher_suites",
    ];

    /// <summary>The suites Go's tls.CipherSuites() names (the secure ones), by those names; .NET's enum has the same IANA names.</summary>
    private static readonly Dictionary<string, TlsCipherSuite> Suites = new(StringComparer.Ordinal)
    {
        ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"] = TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        ["TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"] = TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"] = TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        ["TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"] = TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        ["TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"] = TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        ["TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"] = TlsCipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        ["TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"] = TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
        ["TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"] = TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
        ["TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"] = TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
        ["TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"] = TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
        ["TLS_AES_128_GCM_SHA256"] = TlsCipherSuite.TLS_AES_128_GCM_SHA256,
        ["TLS_AES_256_GCM_SHA384"] = TlsCipherSuite.TLS_AES_256_GCM_SHA384,
        ["TLS_CHACHA20_POLY1305_SHA256"] = TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256,
    };

    private static readonly TlsCipherSuite[] Tls13Suites = [TlsCipherSuite.TLS_AES_128_GCM_SHA256, TlsCipherSuite.TLS_AES_256_GCM_SHA384, TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256];

    private static readonly string[] Curves = ["CurveP256", "CurveP384", "CurveP521", "X25519"];

    /// <summary>The section, or null when it configures nothing (the toolkit then serves plain HTTP).</summary>
    public static TlsServerConfig? From(WebConfigYaml.Mapping section, string path, string directory, WebConfigFiles files)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        IReadOnlyList<string> ciphers = [], curves = [];
        IReadOnlyList<string>? sans = null;
        foreach (var (key, value) in section.Entries)
        {
            switch (key)
            {
                case "cipher_suites":
                    ciphers = WebConfig.List(path, Section, section, key, value);
                    break;
                case "curve_preferences":
                    curves = WebConfig.List(path, Section, section, key, value);
                    break;
                case "client_allowed_sans":
                    sans = WebConfig.List(path, Section, section, key, value);
                    break;
                case "prefer_server_cipher_suites":
                    _ = WebConfig.Boolean(path, Section, section, key, value); // Go ignores it since 1.18; checked, not used
                    break;
                default:
                    values[key] = Keys.Contains(key)
                        ? WebConfig.Text(path, Section, section, key, value)
                        : throw new WebConfigException($"{path} line {section.Lines[key]}: {Section}: unknown or unsupported key '{key}' (supported: {string.Join(", ", Keys)})");
                    break;
            }
        }

        if (values.Values.All(v => v.Length == 0) && ciphers.Count == 0 && curves.Count == 0 && sans is null)
        {
            return null;
        }

        string Get(string key) => values.TryGetValue(key, out string? v) ? v : "";
        string Resolve(string file) => Path.IsPathRooted(file) ? file : Path.Combine(directory, file);
        if ((Get("cert_file").Length == 0 && Get("cert").Length == 0) || (Get("key_file").Length == 0 && Get("key").Length == 0))
        {
            throw new WebConfigException($"{path}: {Section} needs both cert_file and key_file (or cert and key, inline PEM)");
        }

        X509Certificate2 certificate = LoadCertificate(files, path, Get("cert_file").Length > 0 ? Resolve(Get("cert_file")) : null, Get("cert"), Get("key_file").Length > 0 ? Resolve(Get("key_file")) : null, Get("key"));
        (ClientCertificateMode mode, bool verify) = Get("client_auth_type") switch
        {
            "" or "NoClientCert" => (ClientCertificateMode.NoCertificate, false),
            "RequestClientCert" => (ClientCertificateMode.AllowCertificate, false),
            "RequireAnyClientCert" or "RequireClientCert" => (ClientCertificateMode.RequireCertificate, false),
            "VerifyClientCertIfGiven" => (ClientCertificateMode.AllowCertificate, true),
            "RequireAndVerifyClientCert" => (ClientCertificateMode.RequireCertificate, true),
            var other => throw new WebConfigException($"{path}: {Section}: client_auth_type '{other}' is not one of NoClientCert, RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert"),
        };
        X509Certificate2Collection? cas = LoadClientCas(files, path, Get("client_ca_file").Length > 0 ? Resolve(Get("client_ca_file")) : null, Get("client_ca"));
        if (cas is not null && mode == ClientCertificateMode.NoCertificate)
        {
            throw new WebConfigException($"{path}: {Section}: client CAs are configured without a client_auth_type that asks for a certificate");
        }

        if (mode == ClientCertificateMode.RequireCertificate && verify && cas is null)
        {
            // Go would verify against the system's roots: any client with a public CA's certificate would get in.
            // VerifyClientCertIfGiven lets clients without one in anyway, so there the system's roots do, as in Go.
            throw new WebConfigException($"{path}: {Section}: client_auth_type {Get("client_auth_type")} needs client_ca_file");
        }

        SslProtocols min = Version(path, "min_version", Get("min_version"), SslProtocols.Tls12);
        SslProtocols max = Version(path, "max_version", Get("max_version"), SslProtocols.Tls13);
        if (min > max)
        {
            throw new WebConfigException($"{path}: {Section}: min_version is above max_version");
        }

        var suites = new List<TlsCipherSuite>();
        foreach (string name in ciphers)
        {
            suites.Add(Suites.TryGetValue(name, out TlsCipherSuite suite) ? suite : throw new WebConfigException($"{path} line {section.Lines["cipher_suites"]}: {Section}: unknown cipher '{name}' (Go's names, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)"));
        }

        foreach (string name in curves)
        {
            _ = Curves.Contains(name) ? name : throw new WebConfigException($"{path} line {section.Lines["curve_preferences"]}: {Section}: unknown curve '{name}' (one of {string.Join(", ", Curves)})");
        }

        SslProtocols protocols = min == max ? min : SslProtocols.Tls12 | SslProtocols.Tls13;
        return new TlsServerConfig(certificate, mode, cas, verify, protocols, suites, curves, sans);
    }

    /// <summary>
    /// The toolkit's HTTP/2 rule (Go's net/http): with TLS 1.2 allowed and cipher_suites set, one of the two
    /// AES_128_GCM_SHA256 suites HTTP/2 requires must be among them, or http2 turned off.
    /// </summary>
    public void CheckHttp2Ciphers(string path)
    {
        if (CipherSuites.Count > 0 && Protocols.HasFlag(SslProtocols.Tls12)
            && !CipherSuites.Contains(TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256) && !CipherSuites.Contains(TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256))
        {
            throw new WebConfigException($"{path}: {Section}: cipher_suites is missing an HTTP/2-required AES_128_GCM_SHA256 suite (TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 or TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256); add one or set http_server_config: http2: false");
        }
    }

    /// <summary>The suites to offer, or null for the system's: the listed TLS 1.2 suites and all of TLS 1.3's, which Go does not let one restrict.</summary>
    public CipherSuitesPolicy? CipherSuitesPolicy() => CipherSuites.Count == 0 || OperatingSystem.IsWindows() ? null : new CipherSuitesPolicy(CipherSuites.Union(Tls13Suites));

    private static X509Certificate2 LoadCertificate(WebConfigFiles files, string path, string? certFile, string certPem, string? keyFile, string keyPem)
    {
        string what = $"cert_file {certFile ?? "(inline cert)"} with key_file {keyFile ?? "(inline key)"}";
        try
        {
            return X509Certificate2.CreateFromPem(certFile is null ? certPem : files.ReadAllText(certFile), keyFile is null ? keyPem : files.ReadAllText(keyFile));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            throw new WebConfigException($"{path}: {Section}: cannot load {what}: {e.Message.ReplaceLineEndings(" ")}");
        }
    }

    private static X509Certificate2Collection? LoadClientCas(WebConfigFiles files, string path, string? file, string pem)
    {
        if (file is null && pem.Length == 0)
        {
            return null;
        }

        X509Certificate2Collection cas = [];
        try
        {
            cas.ImportFromPem(file is null ? pem : files.ReadAllText(file));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new WebConfigException($"{path}: {Section}: cannot load client_ca_file {file ?? "(inline client_ca)"}: {e.Message.ReplaceLineEndings(" ")}");
        }

        return cas.Count > 0 ? cas : throw new WebConfigException($"{path}: {Section}: client_ca_file {file ?? "(inline client_ca)"} holds no PEM certificate");
    }

    private static SslProtocols Version(string path, string key, string value, SslProtocols empty) => value switch
    {
        "" => empty,
        "TLS12" => SslProtocols.Tls12,
        "TLS13" => SslProtocols.Tls13,
        _ => throw new WebConfigException($"{path}: {Section}: {key} '{value}' is not TLS12 or TLS13 (older versions are not offered)"),
    };

    /// <summary>
    /// Kestrel's client certificate check: for the two Verify types the chain must end at one of the client CAs (the system's roots without them, VerifyClientCertIfGiven only); with
    /// client_allowed_sans a presented certificate must carry one of them.
    /// </summary>
    public bool ValidateClient(X509Certificate2? certificate)
    {
        if (certificate is null)
        {
            return ClientCertificateMode != ClientCertificateMode.RequireCertificate;
        }

        if (ClientAllowedSans is { } allowed && !ClientSans.Read(certificate).Any(san => allowed.Contains(san, StringComparer.Ordinal)))
        {
            return false;
        }

        if (!VerifyClientCertificate)
        {
            return true;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (ClientCas is not null)
        {
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(ClientCas);
        }

        return chain.Build(certificate);
    }
}
