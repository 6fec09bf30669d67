using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using MapsExporter.Tests.Daemon;
using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Reliability;

/// <summary>The rest of the toolkit's format on a real Kestrel listener: headers, http2, cipher_suites, client_allowed_sans.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")] // CipherSuitesPolicy
public sealed class HttpServerConfigTests
{
    private static readonly string Toolkit = Path.Combine(RepoPaths.Fixtures, "exporter-toolkit");

    [Fact]
    public async Task Headers_are_on_every_response_and_http2_is_negotiated_unless_turned_off()
    {
        using var tls = new TestCertificate();
        string hash = BCrypt.Net.BCrypt.HashPassword("pw", 4);
        string on = tls.WriteConfig($"""
            tls_server_config:
              cert_file: server.crt
              key_file: server.key
            http_server_config:
              headers:
                X-Frame-Options: deny
                Content-Security-Policy: "default-src 'self'"
            basic_auth_users:
              a: {hash}
            """);
        await using (RunningDaemon daemon = await RunningDaemon.StartAsync("--scan.interval=1h", $"--web.config.file={on}"))
        {
            using HttpClient client = tls.Client(daemon.Address);
            using HttpResponseMessage ok = await SendAsync(client, "/metrics", HttpVersion.Version20, HttpVersionPolicy.RequestVersionExact, "a:pw");
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal(HttpVersion.Version20, ok.Version);
            Assert.Equal("deny", ok.Headers.GetValues("X-Frame-Options").Single());
            Assert.Equal("default-src 'self'", ok.Headers.GetValues("Content-Security-Policy").Single());
            using HttpResponseMessage refused = await SendAsync(client, "/metrics", HttpVersion.Version11, HttpVersionPolicy.RequestVersionExact, null);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.Equal("deny", refused.Headers.GetValues("X-Frame-Options").Single());
        }

        string off = tls.WriteConfig("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\nhttp_server_config:\n  http2: false\n");
        await using (RunningDaemon daemon = await RunningDaemon.StartAsync("--scan.interval=1h", $"--web.config.file={off}"))
        {
            using HttpClient client = tls.Client(daemon.Address);
            using HttpResponseMessage lower = await SendAsync(client, "/metrics", HttpVersion.Version20, HttpVersionPolicy.RequestVersionOrLower, null);
            Assert.Equal(HttpStatusCode.OK, lower.StatusCode);
            Assert.Equal(HttpVersion.Version11, lower.Version);
            Assert.False(lower.Headers.Contains("X-Frame-Options"));
            await Assert.ThrowsAsync<HttpRequestException>(() => SendAsync(client, "/metrics", HttpVersion.Version20, HttpVersionPolicy.RequestVersionExact, null));
        }
    }

    [Fact]
    public async Task Cipher_suites_limit_what_a_TLS12_handshake_can_agree_on()
    {
        using var tls = new TestCertificate(); // an ECDSA key: the ECDHE_ECDSA suites
        string config = tls.WriteConfig("""
            tls_server_config:
              cert_file: server.crt
              key_file: server.key
              max_version: TLS12
              cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384]
            http_server_config:
              http2: false
            """);
        await using RunningDaemon daemon = await RunningDaemon.StartAsync("--scan.interval=1h", $"--web.config.file={config}");
        Assert.Equal(HttpStatusCode.OK, await StatusWithCipherAsync(daemon.Address, tls.Thumbprint, TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384));
        await Assert.ThrowsAsync<HttpRequestException>(() => StatusWithCipherAsync(daemon.Address, tls.Thumbprint, TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256));
        await Assert.ThrowsAsync<HttpRequestException>(() => StatusWithCipherAsync(daemon.Address, tls.Thumbprint, TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256));
    }

    [Theory]
    [InlineData("web_config_auth_client_san.good.yaml", true)]
    [InlineData("web_config_auth_client_san.bad.yaml", false)]
    public async Task Client_allowed_sans_admit_only_a_certificate_naming_one(string file, bool admitted)
    {
        // The toolkit's own files and certificates: client2_selfsigned carries DNS:test3.
        await using RunningDaemon daemon = await RunningDaemon.StartAsync("--scan.interval=1h", $"--web.config.file={Path.Combine(Toolkit, file)}");
        using X509Certificate2 server = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(Toolkit, "server.crt"));
        using X509Certificate2 clientCertificate = ClientCertificate("client2_selfsigned");
        using var client = new HttpClient(new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, cert, _, _) => cert?.GetCertHashString() == server.GetCertHashString(),
                ClientCertificates = [clientCertificate],
            },
        })
        { BaseAddress = daemon.Address, Timeout = TimeSpan.FromSeconds(30) };
        if (admitted)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/metrics", UriKind.Relative))).StatusCode);
        }
        else
        {
            await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync(new Uri("/metrics", UriKind.Relative)));
        }
    }

    private static X509Certificate2 ClientCertificate(string name)
    {
        using X509Certificate2 certificate = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(Toolkit, name + ".pem"));
        using var key = System.Security.Cryptography.ECDsa.Create();
        key.ImportFromPem(File.ReadAllText(Path.Combine(Toolkit, name + ".key")));
        return certificate.CopyWithPrivateKey(key);
    }

    private static async Task<HttpStatusCode> StatusWithCipherAsync(Uri address, string thumbprint, TlsCipherSuite suite)
    {
        using var client = new HttpClient(new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, cert, _, _) => cert?.GetCertHashString() == thumbprint,
                EnabledSslProtocols = SslProtocols.Tls12,
                CipherSuitesPolicy = new CipherSuitesPolicy([suite]),
            },
        })
        { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
        using HttpResponseMessage response = await client.GetAsync(new Uri("/metrics", UriKind.Relative));
        return response.StatusCode;
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, string path, Version version, HttpVersionPolicy policy, string? credentials)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path) { Version = version, VersionPolicy = policy };
        if (credentials is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
        }

        return await client.SendAsync(request);
    }
}
