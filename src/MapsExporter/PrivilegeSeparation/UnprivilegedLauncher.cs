using System.Diagnostics;
using System.Runtime.InteropServices;

namespace MapsExporter.PrivilegeSeparation;

/// <summary>
/// Starts one process with no capability, from a thread of its own. Capabilities are per thread in Linux and the
/// runtime has started threads before Main, so a privileged .NET process cannot drop them for itself as a whole; a
/// child is forked with the credentials of the thread that asks. This thread drops, for itself, everything exec could
/// pass on: its ambient set (a non-root uid then gains nothing through exec), as root its bounding set, else its
/// permitted and effective sets (under no_new_privs, file capabilities, as the container's binary has, are still
/// granted up to the parent's permitted set), and it sets no_new_privs. Its uid is left alone; as root the child
/// takes <see cref="Nobody"/>'s uid and gid between fork and exec (ProcessStartInfo.UserName): root without
/// capabilities could still read other root processes' memory, since ptrace's checks pass on equal uids. A thread
/// created from this one would inherit its empty sets, so it queues no work to the thread pool (which may create a
/// worker from the queueing thread): it signals through an event. It lives as long as the process: a child's
/// PR_SET_PDEATHSIG fires when the thread that forked it exits.
/// </summary>
internal sealed partial class UnprivilegedLauncher : IDisposable
{
    /// <summary>The user a root daemon's web side runs as.</summary>
    public const string Nobody = "nobody";

    private const int LastCapability = 63;

    private readonly ManualResetEventSlim _done = new();
    private readonly ProcessStartInfo _info;
    private string? _problem;
    private Process? _started;

    private UnprivilegedLauncher(ProcessStartInfo info)
    {
        _info = info;
    }

    /// <summary>The user the child runs as: nobody for a root daemon, else the daemon's own.</summary>
    public string ChildUser { get; private set; } = "";

    /// <summary>Starts <paramref name="info"/> from a thread that dropped its privilege; an exception naming the call that failed otherwise.</summary>
    public static async Task<(UnprivilegedLauncher Launcher, Process Child)> StartAsync(ProcessStartInfo info)
    {
        var launcher = new UnprivilegedLauncher(info);
        var thread = new Thread(launcher.Run) { IsBackground = true, Name = "unprivileged-launcher" };
        thread.Start();
        await Task.Run(launcher._done.Wait);
        return launcher._started is { } child ? (launcher, child) : throw new IOException(launcher._problem);
    }

    public void Dispose() => _done.Dispose();

    private void Run()
    {
        try
        {
            _problem = Drop();
            if (_problem is null)
            {
                _started = Process.Start(_info);
            }
        }
        catch (Exception e)
        {
            _problem = $"cannot start the web side: {e.Message}";
        }

        _done.Set();
        Thread.Sleep(Timeout.Infinite);
    }

    /// <summary>This thread only: null when done, else what failed.</summary>
    private string? Drop()
    {
        bool root = LinuxCalls.GetUid() == 0;
        if (root)
        {
            for (int cap = 0; cap <= LastCapability; cap++)
            {
                // EINVAL past the kernel's last capability: the set is then empty.
                if (LinuxCalls.Prctl(LinuxCalls.PrCapbsetDrop, (nuint)cap, 0, 0, 0) != 0 && Marshal.GetLastPInvokeError() != 22)
                {
                    return $"prctl(PR_CAPBSET_DROP, {cap}): errno {Marshal.GetLastPInvokeError()}";
                }
            }

            _info.UserName = Nobody;
        }

        ChildUser = root ? Nobody : Environment.UserName;
        if (LinuxCalls.Prctl(LinuxCalls.PrCapAmbient, LinuxCalls.PrCapAmbientClearAll, 0, 0, 0) != 0)
        {
            return $"prctl(PR_CAP_AMBIENT_CLEAR_ALL): errno {Marshal.GetLastPInvokeError()}";
        }

        if (LinuxCalls.Prctl(LinuxCalls.PrSetNoNewPrivs, 1, 0, 0, 0) != 0)
        {
            return $"prctl(PR_SET_NO_NEW_PRIVS): errno {Marshal.GetLastPInvokeError()}";
        }

        // Not as root: the child needs CAP_SETUID/CAP_SETGID to become nobody, which clears its sets anyway. Refused
        // under the unit's filter (@privileged), where nothing needs it: no file capabilities there.
        if (!root)
        {
            ClearCapabilities();
        }

        return null;
    }

    private static unsafe void ClearCapabilities()
    {
        // _LINUX_CAPABILITY_VERSION_3, this thread; two zeroed data words (effective, permitted, inheritable).
        uint* header = stackalloc uint[2] { 0x20080522, 0 };
        uint* data = stackalloc uint[6] { 0, 0, 0, 0, 0, 0 };
        LinuxCalls.Syscall(LinuxCalls.Numbers.Capset, (nint)header, (nint)data, 0);
    }
}
