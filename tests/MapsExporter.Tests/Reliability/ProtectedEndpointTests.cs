using System.Net;
using System.Net.Http.Headers;
using System.Text;
using MapsExporter.Tests.Daemon;

namespace MapsExporter.Tests.Reliability;

/// <summary>--web.config.file: TLS and basic auth on a real Kestrel listener; a bad file is one line and exit 78.</summary>
public sealed class ProtectedEndpointTests
{
    private static readonly string PasswordHash = BCrypt.Net.BCrypt.HashPassword("correct horse", 4);

    [Fact]
    public async Task Scrapes_over_TLS_need_the_right_credentials_and_plain_HTTP_is_refused()
    {
        using var tls = new TestCertificate();
        // relative cert paths resolve against the config file's folder; a comment and quotes as people write them
        string config = tls.WriteConfig($"""
            # written by the test
            tls_server_config:
              cert_file: server.crt
              key_file: "{tls.KeyFile}"
              min_version: TLS12
            basic_auth_users:
              prometheus: '{PasswordHash}'
            """);
        await using RunningDaemon daemon = await RunningDaemon.StartAsync("--scan.interval=1h", $"--web.config.file={config}");
        Assert.Equal("https", daemon.Address.Scheme);
        using HttpClient client = tls.Client(daemon.Address);

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(client, "/metrics", "prometheus", "correct horse"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(client, "/metrics", "prometheus", "correct horse")); // from the cache
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(client, "/metrics", "prometheus", "wrong"));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(client, "/metrics", "nobody", "correct horse"));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(client, "/metrics", null, null));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(client, "/", null, null));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(client, "/healthz", null, null));
        using (var request = new HttpRequestMessage(HttpMethod.Get, "/metrics"))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", "%%%not-base64");
            using HttpResponseMessage response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("Basic", response.Headers.WwwAuthenticate.Single().Scheme);
        }

        string body = await (await SendAsync(client, "/metrics", "prometheus", "correct horse")).Content.ReadAsStringAsync();
        Assert.Contains("mapsexporter_scanned_processes", body, StringComparison.Ordinal);

        // Plain HTTP to the TLS port gets no metrics: Kestrel answers 400 or drops the connection.
        using var plain = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var plainUri = new UriBuilder(daemon.Address) { Scheme = "http" }.Uri;
        try
        {
            using HttpResponseMessage response = await plain.GetAsync(new Uri(plainUri, "/metrics"));
            Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
        }
        catch (HttpRequestException)
        {
        }
    }

    [Fact]
    public async Task Basic_auth_without_TLS_and_an_empty_file_work()
    {
        using var tls = new TestCertificate();
        string config = tls.WriteConfig($"---\nbasic_auth_users:\n  a: {PasswordHash}\n");
        await using (RunningDaemon daemon = await RunningDaemon.StartAsync("--scan.interval=1h", $"--web.config.file={config}"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(daemon.Http, "/metrics", null, null));
            Assert.Equal(HttpStatusCode.OK, await StatusAsync(daemon.Http, "/metrics", "a", "correct horse"));
        }

        await using (RunningDaemon open = await RunningDaemon.StartAsync("--scan.interval=1h", $"--web.config.file={tls.WriteConfig("# nothing\n")}"))
        {
            Assert.Equal(HttpStatusCode.OK, await StatusAsync(open.Http, "/metrics", null, null));
        }
    }

    [Theory]
    [InlineData("basic_auth_users:\n  a: plaintext\n", "bcrypt hash")]
    [InlineData("tls_server_config:\n  cert_file: missing.crt\n  key_file: missing.key\n", "cannot load cert_file")]
    [InlineData("tls_server_confg:\n  cert_file: x\n", "unknown or unsupported key 'tls_server_confg'")]
    [InlineData("tls_server_config:\n  cert_file: server.crt\n", "needs both cert_file and key_file")]
    [InlineData("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  min_version: TLS10\n", "min_version")]
    [InlineData("basic_auth_users:\n  - a\n", "line 2")]
    public void An_unusable_web_config_is_one_line_and_exit_78(string yaml, string expected)
    {
        using var tls = new TestCertificate();
        string config = tls.WriteConfig(yaml);
        var (code, stderr) = DaemonProcess.Run(["--web.listen-address=127.0.0.1:0", "--scan.interval=1h", $"--web.config.file={config}"]);
        Assert.Equal(78, code);
        string[] lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, stderr);
        Assert.Contains("--web.config.file", lines[0], StringComparison.Ordinal);
        Assert.Contains(expected, lines[0], StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_web_config_file_is_exit_78()
    {
        var (code, stderr) = DaemonProcess.Run(["--web.listen-address=127.0.0.1:0", "--web.config.file=/nonexistent/web.yml"]);
        Assert.Equal(78, code);
        Assert.Contains("cannot read /nonexistent/web.yml", stderr, StringComparison.Ordinal);
    }

    private static async Task<HttpStatusCode> StatusAsync(HttpClient client, string path, string? user, string? password)
    {
        using HttpResponseMessage response = await SendAsync(client, path, user, password);
        return response.StatusCode;
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, string path, string? user, string? password)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (user is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        }

        return await client.SendAsync(request);
    }
}
