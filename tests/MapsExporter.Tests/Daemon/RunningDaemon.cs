using MapsExporter.Daemon;
using MapsExporter.Scanning;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace MapsExporter.Tests.Daemon;

/// <summary>The daemon built exactly as the binary builds it, hosted in-process on a real Kestrel listener on 127.0.0.1.</summary>
internal sealed class RunningDaemon : IAsyncDisposable
{
    private readonly WebApplication _app;

    private RunningDaemon(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
        Http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
    }

    public Uri Address { get; }

    public HttpClient Http { get; }

    /// <summary>The last scan, as <c>/</c> and <c>/healthz</c> show it.</summary>
    public LatestScan Latest => _app.Services.GetRequiredService<LatestScan>();

    public static async Task<RunningDaemon> StartAsync(params string[] flags)
    {
        WebApplication app = DaemonHost.Build(["--web.listen-address=127.0.0.1:0", "--log.level=warn", .. flags]);
        app.Services.GetRequiredService<IStartupValidator>().Validate();
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new RunningDaemon(app, new Uri(address));
    }

    public async Task<MetricsScrape> ScrapeAsync() => MetricsScrape.Parse(await Http.GetStringAsync(new Uri("/metrics", UriKind.Relative)));

    public Task<MetricsScrape> WaitForAsync(Func<MetricsScrape, bool> condition, string what, int seconds = 30) =>
        Poll.UntilAsync(ScrapeAsync, condition, TimeSpan.FromSeconds(seconds), what);

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
