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

    /// <summary>Starts the web side from an <see cref="UnprivilegedLauncher"/>, with the child's end of a new socket pair as <c>{fd}</c> in <paramref name="command"/>.</summary>
    public static async Task<WebSideSupervisor> StartAsync(IReadOnlyList<string> command, ScannerServer server, ILogger logger)
    {
        (Process web, Socket socket, string user) = await SpawnAsync(command);
        var supervisor = new WebSideSupervisor(web, socket, server, logger) { WebUser = user };
        // Fail closed: a web side that holds any capability is not run.
        if (CapabilitySets(web.Id) is { } held and not 0)
        {
            Stop(web);
            supervisor.Dispose();
            throw new IOException($"the web side holds capabilities ({held:x}) after its start: refusing to run it");
        }

        return supervisor;
    }

    /// <summary>The user the web side runs as.</summary>
    public string WebUser { get; private init; } = "";

    /// <summary>CapPrm | CapEff | CapAmb of <paramref name="pid"/>, null when it cannot be read (it exited).</summary>
    private static ulong? CapabilitySets(int pid)
    {
        try
        {
            ulong held = 0;
            foreach (string line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("CapPrm:", StringComparison.Ordinal) || line.StartsWith("CapEff:", StringComparison.Ordinal) || line.StartsWith("CapAmb:", StringComparison.Ordinal))
                {
                    held |= ulong.Parse(line.AsSpan(7).Trim(), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
                }
            }

            return held;
        }
        catch (IOException)
        {
            return null;
        }
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

    private static async Task<(Process Web, Socket Ours, string User)> SpawnAsync(IReadOnlyList<string> command)
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
            (UnprivilegedLauncher launcher, Process web) = await UnprivilegedLauncher.StartAsync(info);
            // Not disposed: its thread must outlive the child (PR_SET_PDEATHSIG); one per daemon.
            return (web, new Socket(new SafeSocketHandle(fds[0], ownsHandle: true)), launcher.ChildUser);
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
