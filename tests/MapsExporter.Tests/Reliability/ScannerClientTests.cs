using System.Net.Sockets;
using MapsExporter.PrivilegeSeparation;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging.Abstractions;

namespace MapsExporter.Tests.Reliability;

/// <summary>
/// The web side's client on a real socket pair, the scanner played by a loop that answers each request in turn.
/// The Listening handshake is sent once Kestrel listens, so a scrape can ask at the same moment: two requests in
/// flight read each other's answers ("not a frame (bad magic)", the web side stopped: seen in a full run).
/// </summary>
public sealed class ScannerClientTests
{
    [Fact]
    public async Task A_scrape_during_the_listening_handshake_waits_its_turn()
    {
        for (int attempt = 0; attempt < 5; attempt++)
        {
            int[] fds = new int[2];
            Assert.Equal(0, LinuxCalls.SocketPair(LinuxCalls.AfUnix, LinuxCalls.SockStream | LinuxCalls.SockCloexec, 0, fds));
            var lifetime = new ApplicationLifetime(NullLogger<ApplicationLifetime>.Instance);
            using ScannerClient client = ScannerClient.FromDescriptor(fds[0], lifetime, NullLogger<ScannerClient>.Instance);
            await using var scanner = new NetworkStream(new Socket(new SafeSocketHandle(fds[1], ownsHandle: true)), ownsSocket: true);
            Task serving = AnswerInTurnAsync(scanner, 2);

            Task<bool> handshake = client.HandshakeAsync(IpcKind.Listening, CancellationToken.None);
            Task<IpcResponse?> scrape = client.AskAsync(new IpcRequest(IpcKind.Metrics, ""), CancellationToken.None);
            Assert.True(await handshake, $"attempt {attempt}: the handshake broke");
            IpcResponse? answer = await scrape;
            Assert.True(answer is { Kind: IpcKind.Metrics }, $"attempt {attempt}: the scrape got {answer?.Kind.ToString() ?? "nothing"}");
            Assert.False(client.Broken);
            await serving;
        }
    }

    // The scanner's side: each request answered after a pause, in the order they came.
    private static async Task AnswerInTurnAsync(Stream scanner, int requests)
    {
        for (int i = 0; i < requests; i++)
        {
            IpcRequest request = (await IpcFrames.ReadRequestAsync(scanner, CancellationToken.None))!;
            await Task.Delay(100);
            byte[] body = request.Kind == IpcKind.Metrics ? "# metrics\n"u8.ToArray() : [];
            await scanner.WriteAsync(IpcFrames.Encode(new IpcResponse(request.Kind, 200, "text/plain; charset=utf-8", body)));
        }
    }
}
