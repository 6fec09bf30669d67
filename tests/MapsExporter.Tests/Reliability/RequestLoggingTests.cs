using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using MapsExporter.Tests.Support;
using MapsExporter.Web;
using Microsoft.Extensions.Logging;

namespace MapsExporter.Tests.Reliability;

/// <summary>Serilog.AspNetCore's request lines and the failed-authentication warnings, read from the real daemon's log.</summary>
public sealed partial class RequestLoggingTests
{
    [Fact]
    public async Task Each_request_is_one_debug_line_with_path_status_duration_bytes_and_client()
    {
        using Exporter exporter = await Exporter.StartAsync(["--scan.interval=1h", "--log.level=debug"]);
        byte[] plain = await exporter.Http.GetByteArrayAsync(new Uri("/metrics", UriKind.Relative));
        using var gzipRequest = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        gzipRequest.Headers.AcceptEncoding.ParseAdd("gzip");
        using HttpResponseMessage gzip = await exporter.Http.SendAsync(gzipRequest);
        long gzipBytes = (await gzip.Content.ReadAsByteArrayAsync()).Length;
        using HttpResponseMessage missing = await exporter.Http.GetAsync(new Uri("/no%22where?secret=hunter2", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);

        string log = await WaitForLogAsync(exporter, @"/no\x22where responded 404");
        MatchCollection scrapes = MetricsLine().Matches(log);
        Assert.True(scrapes.Count >= 2, log);
        Assert.All(scrapes, m => Assert.Contains("level=debug", m.Value, StringComparison.Ordinal));
        long[] bytes = [.. scrapes.Select(m => long.Parse(m.Groups["bytes"].Value, System.Globalization.CultureInfo.InvariantCulture))];
        Assert.Contains(plain.LongLength, bytes);
        Assert.Contains(gzipBytes, bytes);
        Assert.True(gzipBytes < plain.LongLength / 2, $"gzip {gzipBytes} of {plain.LongLength}");
        Assert.DoesNotContain("hunter2", log, StringComparison.Ordinal); // the query is never logged
        Assert.DoesNotContain("/no\"where", log, StringComparison.Ordinal); // a client's quote cannot end the logfmt field
    }

    [Fact]
    public async Task Failed_authentication_is_one_warning_per_client_with_its_address_and_never_the_credentials()
    {
        using var tls = new TestCertificate();
        string hash = BCrypt.Net.BCrypt.HashPassword("correct horse", 4);
        string config = tls.WriteConfig($"basic_auth_users:\n  alice: {hash}\n");
        using Exporter exporter = await Exporter.StartAsync(["--scan.interval=1h", $"--web.config.file={config}"]);
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(exporter.Http, "alice", $"guess-{i}"));
        }

        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(exporter.Http, null, null)); // a challenge, not a failure
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(exporter.Http, "alice", "correct horse"));

        string log = await WaitForLogAsync(exporter, "Basic authentication failed");
        await Task.Delay(500); // any further (wrong) line would be written by now
        log = exporter.Output;
        string[] warnings = [.. log.Split('\n').Where(l => l.Contains("Basic authentication failed", StringComparison.Ordinal))];
        Assert.Single(warnings);
        Assert.Contains("level=warn", warnings[0], StringComparison.Ordinal);
        Assert.Contains("from 127.0.0.1 ", warnings[0], StringComparison.Ordinal);
        Assert.DoesNotContain("guess-", log, StringComparison.Ordinal);
        Assert.DoesNotContain("alice", log, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes("alice:guess-0")), log, StringComparison.Ordinal);
    }

    [Fact]
    public void A_client_gets_one_line_a_minute_and_the_next_counts_what_was_not_logged()
    {
        var clock = new ManualClock();
        var logger = new ListLogger();
        var log = new AuthFailureLog(logger, clock);
        var a = IPAddress.Parse("192.0.2.1");
        var b = IPAddress.Parse("2001:db8::2");
        for (int i = 0; i < 10; i++)
        {
            log.Failed(a);
            clock.Advance(TimeSpan.FromSeconds(5));
        }

        log.Failed(b);
        Assert.Equal(["192.0.2.1 0", "2001:db8::2 0"], logger.Lines);
        clock.Advance(TimeSpan.FromSeconds(15)); // 65 s after a's first line
        log.Failed(a);
        Assert.Equal("192.0.2.1 9", logger.Lines[^1]);
        Assert.All(logger.Levels, level => Assert.Equal(LogLevel.Warning, level));
    }

    [Fact]
    public void Past_the_client_limit_failures_are_counted_not_logged()
    {
        var clock = new ManualClock();
        var logger = new ListLogger();
        var log = new AuthFailureLog(logger, clock);
        for (int i = 0; i < AuthFailureLog.MaxClients + 10; i++)
        {
            log.Failed(new IPAddress(0x0A000000 + i));
        }

        Assert.Equal(AuthFailureLog.MaxClients, logger.Lines.Count);
        clock.Advance(TimeSpan.FromMinutes(2));
        log.Failed(IPAddress.Parse("192.0.2.9"));
        Assert.Equal("192.0.2.9 10", logger.Lines[^1]); // the 10 dropped ones are counted in the next line
    }

    private static async Task<string> WaitForLogAsync(Exporter exporter, string text)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(20);
        while (!exporter.Output.Contains(text, StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, $"no '{text}' in the log: {exporter.Output}");
            await Task.Delay(100);
        }

        return exporter.Output;
    }

    private static async Task<HttpStatusCode> StatusAsync(HttpClient client, string? user, string? password)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        if (user is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        }

        using HttpResponseMessage response = await client.SendAsync(request);
        return response.StatusCode;
    }

    [GeneratedRegex(@"^.*HTTP GET /metrics responded 200 in [0-9.]+ ms, (?<bytes>[0-9]+) bytes to 127\.0\.0\.1.*$", RegexOptions.Multiline)]
    private static partial Regex MetricsLine();

    /// <summary>Each warning as "client suppressed".</summary>
    private sealed class ListLogger : ILogger<AuthFailureLog>
    {
        public List<string> Lines { get; } = [];

        public List<LogLevel> Levels { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = (IReadOnlyList<KeyValuePair<string, object?>>)state!;
            Levels.Add(logLevel);
            Lines.Add($"{values.First(v => v.Key == "ClientAddress").Value} {values.First(v => v.Key == "Suppressed").Value}");
        }
    }
}
