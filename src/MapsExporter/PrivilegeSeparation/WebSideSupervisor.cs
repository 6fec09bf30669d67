using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using MapsExporter.Web;
using Microsoft.Win32.SafeHandles;

namespace MapsExporter.PrivilegeSeparation;

/// <summary>
/// In the scanner: starts the web side (this binary, <c>web-side --ipc-fd N</c>, from the
/// <see cref="UnprivilegedLauncher"/>) with one end of a UNIX socket pair, before the scanner's seccomp filter (which
/// every child would inherit), and serves it. The web side is not restarted: a child started later would inherit the
/// filter and could not listen. When it exits the scanner ends too, with exit 1 (systemd's Restart= starts the
/// unit again), or 78 when the web side found a bad setting. The web side also inherits the listening sockets the
/// scanner bound (<see cref="ListenSockets"/>) and, with a web config, the files it names as the scanner read them
/// (<see cref="WebConfigFiles"/>, in a memfd): it binds nothing and opens no file by name.
/// </summary>
internal sealed partial class WebSideSupervisor(Process web, Socket socket, ScannerServer server, ILogger logger) : IDisposable
{
    /// <summary>The web side's PID.</summary>
    public int WebPid => web.Id;

    /// <summary>
    /// Starts the web side from an <see cref="UnprivilegedLauncher"/>, with the child's end of a new socket pair as
    /// <c>{fd}</c> in <paramref name="command"/>, followed by <c>--listen-fd N</c> for each of <paramref name="listeners"/>
    /// and <c>--web-files-fd N</c> for <paramref name="webFiles"/>; the scanner's own copies are closed once it started.
    /// </summary>
    public static async Task<WebSideSupervisor> StartAsync(IReadOnlyList<string> command, IReadOnlyList<Socket> listeners, byte[]? webFiles, ScannerServer server, ILogger logger)
    {
        (Process web, Socket socket, string user) = await SpawnAsync(command, listeners, webFiles);
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

    private static async Task<(Process Web, Socket Ours, string User)> SpawnAsync(IReadOnlyList<string> command, IReadOnlyList<Socket> listeners, byte[]? webFiles)
    {
        int[] fds = new int[2];
        if (LinuxCalls.SocketPair(LinuxCalls.AfUnix, LinuxCalls.SockStream | LinuxCalls.SockCloexec, 0, fds) != 0)
        {
            throw new IOException($"socketpair(AF_UNIX): errno {Marshal.GetLastPInvokeError()}");
        }

        using SafeFileHandle? files = webFiles is null ? null : WebFilesMemfd(webFiles);
        // Only these are inherited: every descriptor the runtime opens is close-on-exec, and so is our end of the pair.
        var inherited = new List<string>();
        foreach ((string flag, int fd) in listeners.Select(l => ("--listen-fd", (int)l.Handle)).Prepend(("", fds[1]))
            .Concat(files is null ? [] : [("--web-files-fd", (int)files.DangerousGetHandle())]))
        {
            LinuxCalls.Fcntl(fd, LinuxCalls.FSetFd, 0);
            inherited.AddRange(flag.Length > 0 ? [flag, Invariant(fd)] : [Invariant(fd)]);
        }

        var info = new ProcessStartInfo(command[0]) { UseShellExecute = false };
        foreach (string arg in command.Skip(1))
        {
            foreach (string word in arg == "{fd}" ? inherited : [arg])
            {
                info.ArgumentList.Add(word);
            }
        }

        // The side that faces the network gets a bounded managed heap (far above what 32 MiB frames need); an
        // allocation past it ends the web side, and so the unit, rather than the host's memory. A smaller bound also
        // commits less GC bookkeeping idle (about 0.5 MB measured). The user's own setting wins.
        info.Environment.TryAdd("DOTNET_GCHeapHardLimit", WebHeapHardLimitHex);

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
            foreach (Socket listener in listeners)
            {
                listener.Dispose(); // the web side holds them now; the scanner keeps no inet socket
            }
        }
    }

    /// <summary>256 MiB, in the hexadecimal the runtime reads from DOTNET_ variables (Native AOT takes no 0x prefix).</summary>
    private const string WebHeapHardLimitHex = "10000000";

    private static string Invariant(int fd) => fd.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>An anonymous memory file holding the bundle, for the web side to read from its start.</summary>
    private static SafeFileHandle WebFilesMemfd(byte[] bundle)
    {
        int fd = LinuxCalls.MemfdCreate("mapsexporter-web-files", LinuxCalls.MfdCloexec);
        if (fd < 0)
        {
            throw new IOException($"memfd_create: errno {Marshal.GetLastPInvokeError()}");
        }

        var handle = new SafeFileHandle(fd, ownsHandle: true);
        RandomAccess.Write(handle, bundle, 0);
        return handle;
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
