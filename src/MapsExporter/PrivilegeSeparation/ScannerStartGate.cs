namespace MapsExporter.PrivilegeSeparation;

/// <summary>
/// The scanner's last hosted service: started after the scan service (whose start waits for the first scan), it lets
/// the web side listen and waits until it does. The host counts as started, and systemd gets READY=1, only then:
/// a scrape after READY=1 finds the port open with data behind it, as with one process.
/// </summary>
internal sealed class ScannerStartGate(ScannerServer server) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        server.MarkScanned();
        await server.WebListening.WaitAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
