using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace MapsExporter.PrivilegeSeparation;

/// <summary>
/// In the scanner: starts the web side (this binary, <c>web-side --ipc-fd N</c>, from the
/// <see cref="UnprivilegedLauncher"/>) with one end of a UNIX socket pair, before the scanner's seccomp filter (which
/// every child would inherit), and serves it. The web side is not restarted: a child started later would inherit the
/// filter and could not listen. When it exits the scanner ends too, with exit 1 (systemd's Restart= starts the
/// unit again), or 78 when the web side found a bad setting.
/// </summary>
internal sealed partial class WebSideSupervisor(Process web, Socket socket, ScannerServer server, ILogger logger) : IDisposable
{
    /// <summary>The web side's PID.</summary>
    public int WebPid => web.Id;

    /// <summary>Starts the web side from <paramref name="launcher"/>, with the child's end of a new socket pair as <c>{fd}</c> in <paramref name="command"/>.</summary>
    public static async Task<WebSideSupervisor> StartAsync(UnprivilegedLauncher launcher, IReadOnlyList<string> command, ScannerServer server, ILogger logger)
    {
        (Process web, Socket socket) = await SpawnAsync(launcher, command);
        return new WebSideSupervisor(web, socket, server, logger);
    }

    /// <summary>
    /// Serves the web side until it exits or <paramref name="stopping"/> (then it is stopped too): the exit code the
    /// scanner should end with (78 when the web side found a bad setting, else 1), or null when stopped.
    /// </summary>
    public async Task<int?> RunAsync(CancellationToken stopping)
    {
        await using var ours = new NetworkStream(socket, ownsSocket: false);
        using var serving = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        Task serve = server.ServeAsync(ours, serving.Token);
        try
        {
            await web.WaitForExitAsync(stopping);
        }
        catch (OperationCanceledException)
        {
            Stop(web);
            return null;
        }
        finally
        {
            await serving.CancelAsync();
            await serve;
        }

        logger.LogError("The web side (PID {Pid}) exited with {Code}; stopping (the scanner cannot start another: it has no network to give it)", web.Id, web.ExitCode);
        return web.ExitCode == ExitCodes.Config ? ExitCodes.Config : ExitCodes.Failure;
    }

    public void Dispose()
    {
        web.Dispose();
        socket.Dispose();
    }

    private static async Task<(Process Web, Socket Ours)> SpawnAsync(UnprivilegedLauncher launcher, IReadOnlyList<string> command)
    {
        int[] fds = new int[2];
        if (LinuxCalls.SocketPair(LinuxCalls.AfUnix, LinuxCalls.SockStream | LinuxCalls.SockCloexec, 0, fds) != 0)
        {
            throw new IOException($"socketpair(AF_UNIX): errno {Marshal.GetLastPInvokeError()}");
        }

        // Only the child's end is inherited: every descriptor the runtime opens is close-on-exec, and so is ours.
        LinuxCalls.Fcntl(fds[1], LinuxCalls.FSetFd, 0);
        var info = new ProcessStartInfo(command[0]) { UseShellExecute = false };
        foreach (string arg in command.Skip(1))
        {
            info.ArgumentList.Add(arg.Replace("{fd}", fds[1].ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
        }

        try
        {
            Process web = await launcher.StartAsync(info);
            return (web, new Socket(new SafeSocketHandle(fds[0], ownsHandle: true)));
        }
        catch
        {
            LinuxCalls.Close(fds[0]);
            throw;
        }
        finally
        {
            LinuxCalls.Close(fds[1]);
        }
    }

    /// <summary>SIGTERM, and SIGKILL when it has not exited within a second.</summary>
    private static void Stop(Process web)
    {
        if (Kill(web.Id, 15) == 0 && !web.WaitForExit(1000))
        {
            web.Kill();
            web.WaitForExit(1000);
        }
    }

    [LibraryImport("libc", EntryPoint = "kill")]
    private static partial int Kill(int pid, int signal);
}
