using MapsExporter.Tests.Support;
using MapsExporter.Web;

namespace MapsExporter.Tests.Reliability;

/// <summary>
/// prometheus/exporter-toolkit's own web/testdata files (tests/Fixtures/exporter-toolkit, origin in its README) through
/// our loader: each accepted or rejected as the toolkit does at start-up (its Validate, then ServeTLS), and every
/// difference listed in that README.
/// </summary>
public sealed class ToolkitTestdataTests
{
    private static readonly string Folder = Path.Combine(RepoPaths.Fixtures, "exporter-toolkit");

    /// <summary>File, does the toolkit start with it, do we. From web/tls_config_test.go, handler_test.go and tls_config.go.</summary>
    private static readonly (string File, bool Toolkit, bool Ours)[] Table =
    [
        ("tls_config_noAuth.requireandverifyclientcert.good.yml", true, true),
        ("tls_config_noAuth.requireanyclientcert.good.yml", true, true),
        ("tls_config_noAuth.requireanyclientcertkeyinline.good.yml", true, true),
        ("web_config_auth_clientCAs_invalid.bad.yml", false, false),
        ("web_config_auth_clientCAs_missing.bad.yml", true, false), // Verify without a CA: Go trusts the system roots
        ("web_config_auth_client_san.bad.yaml", true, true), // starts; refuses the client (ClientSansTests)
        ("web_config_auth_client_san.good.yaml", true, true),
        ("web_config_auth_user_list_invalid.bad.yml", false, false),
        ("web_config_empty.yml", true, true),
        ("web_config_headers.good.yml", true, true),
        ("web_config_headers_content_type_options.bad.yml", false, false),
        ("web_config_headers_extra_header.bad.yml", false, false),
        ("web_config_headers_frame_options.bad.yml", false, false),
        ("web_config_junk.yml", false, false),
        ("web_config_junk_key.yml", false, false),
        ("web_config_noAuth.bad.yml", false, false),
        ("web_config_noAuth.good.blocking.yml", true, false), // the same as clientCAs_missing
        ("web_config_noAuth.good.yml", true, true),
        ("web_config_noAuth_allCiphers.good.yml", true, true),
        ("web_config_noAuth_allCurves.good.yml", true, true),
        ("web_config_noAuth_certPath_empty.bad.yml", false, false),
        ("web_config_noAuth_certPath_invalid.bad.yml", false, false),
        ("web_config_noAuth_certPath_keyPath_empty.bad.yml", false, false),
        ("web_config_noAuth_certPath_keyPath_invalid.bad.yml", false, false),
        ("web_config_noAuth_cert_empty.bad.yml", false, false),
        ("web_config_noAuth_inventedCiphers.bad.yml", false, false),
        ("web_config_noAuth_inventedCurves.bad.yml", false, false),
        ("web_config_noAuth_keyPath_empty.bad.yml", false, false),
        ("web_config_noAuth_keyPath_invalid.bad.yml", false, false),
        ("web_config_noAuth_key_empty.bad.yml", false, false),
        ("web_config_noAuth_noHTTP2.good.yml", true, true),
        ("web_config_noAuth_noHTTP2Cipher.bad.yml", false, false),
        ("web_config_noAuth_someCiphers.good.yml", true, true),
        ("web_config_noAuth_someCiphers_noOrder.good.yml", true, true),
        ("web_config_noAuth_someCurves.good.yml", true, true),
        ("web_config_noAuth_tlsInline.good.yml", true, true),
        ("web_config_noAuth_wrongTLSVersion.bad.yml", false, false),
        ("web_config_rate_limiter_nonblocking.yaml", true, false), // rate_limit is not a key here
        ("web_config_rate_limiter_one_second.yaml", true, false),
        ("web_config_users.good.yml", true, true),
        ("web_config_users_noTLS.good.yml", true, true),
        ("web-config.yml", true, true),
    ];

    public static TheoryData<string, bool> Files()
    {
        var data = new TheoryData<string, bool>();
        foreach (var (file, _, ours) in Table)
        {
            data.Add(file, ours);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Each_toolkit_file_is_accepted_or_rejected_in_one_line(string file, bool accepted)
    {
        string path = Path.Combine(Folder, file);
        if (accepted)
        {
            WebConfig config = WebConfig.Load(path);
            Assert.NotNull(config);
            return;
        }

        var e = Assert.Throws<WebConfigException>(() => WebConfig.Load(path));
        Assert.DoesNotContain('\n', e.Message);
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_file_has_a_row_and_every_difference_is_in_the_readme()
    {
        string[] files = [.. Directory.GetFiles(Folder).Select(Path.GetFileName).Where(f => f!.EndsWith(".yml", StringComparison.Ordinal) || f.EndsWith(".yaml", StringComparison.Ordinal)).Order(StringComparer.Ordinal)!];
        Assert.Equal(files, Table.Select(r => r.File).Order(StringComparer.Ordinal));
        string readme = File.ReadAllText(Path.Combine(Folder, "README.md"));
        foreach (var (file, toolkit, ours) in Table.Where(r => r.Toolkit != r.Ours))
        {
            Assert.Contains($"| `{file}` | {(toolkit ? "accepted" : "rejected")} | {(ours ? "accepted" : "rejected")} |", readme, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_parsed_values_are_the_toolkits()
    {
        WebConfig headers = WebConfig.Load(Path.Combine(Folder, "web_config_headers.good.yml"));
        Assert.Null(headers.Tls);
        Assert.True(headers.Http.Http2);
        Assert.Contains(new KeyValuePair<string, string>("Content-Security-Policy", "default-src 'self' *.test.example.net"), headers.Http.Headers);
        Assert.Contains(new KeyValuePair<string, string>("X-XSS-Protection", "1"), headers.Http.Headers);

        WebConfig noHttp2 = WebConfig.Load(Path.Combine(Folder, "web_config_noAuth_noHTTP2.good.yml"));
        Assert.False(noHttp2.Http.Http2);
        Assert.Equal(System.Security.Authentication.SslProtocols.Tls12, noHttp2.Tls!.Protocols);
        Assert.Equal([System.Net.Security.TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384], noHttp2.Tls.CipherSuites);

        WebConfig sans = WebConfig.Load(Path.Combine(Folder, "web_config_auth_client_san.good.yaml"));
        Assert.Equal(["one", "test3", "two"], sans.Tls!.ClientAllowedSans!);
        Assert.Equal(4, WebConfig.Load(Path.Combine(Folder, "web_config_users.good.yml")).BasicAuthUsers.Count);
        Assert.Equal(["CurveP521"], WebConfig.Load(Path.Combine(Folder, "web_config_noAuth_someCurves.good.yml")).Tls!.CurvePreferences);
    }
}
