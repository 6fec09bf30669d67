using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace MapsExporter.PrivilegeSeparation;

/// <summary>
/// Starts processes with no capability, from one thread of its own. Capabilities are per thread in Linux and the
/// runtime has started threads before Main, so a privileged .NET process cannot drop them for itself as a whole; a
/// child is forked with the credentials of the thread that asks. This thread drops, for itself, what exec would
/// pass on: its ambient set (a non-root uid then gains nothing through exec), as root its bounding set, and it sets
/// no_new_privs (no setuid binary can give anything back). Its effective and permitted sets and its uid are left
/// alone: the thread pool may create its threads from this one, and they inherit its credentials. As root the
/// child takes <see cref="Nobody"/>'s uid and gid between fork and exec (ProcessStartInfo.UserName), which clears
/// its capabilities: root without capabilities could still read other root processes' memory, since ptrace's
/// checks pass on equal uids. The thread lives as long as the process: a child's PR_SET_PDEATHSIG fires when the
/// thread that forked it exits.
/// </summary>
internal sealed partial class UnprivilegedLauncher
{
    /// <summary>The user a root daemon's web side runs as.</summary>
    public const string Nobody = "nobody";

    private const int LastCapability = 63;

    private readonly BlockingCollection<(ProcessStartInfo Info, TaskCompletionSource<Process> Started)> _queue = [];
    private readonly TaskCompletionSource<string?> _dropped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private UnprivilegedLauncher()
    {
        var thread = new Thread(Run) { IsBackground = true, Name = "unprivileged-launcher" };
        thread.Start();
    }

    private string? _userName;

    /// <summary>The user the children run as: nobody for a root daemon, else the daemon's own.</summary>
    public string ChildUser => _userName ?? Environment.UserName;

    /// <summary>A launcher whose thread has dropped its privilege; an exception naming the call that failed otherwise.</summary>
    public static async Task<UnprivilegedLauncher> StartAsync()
    {
        var launcher = new UnprivilegedLauncher();
        if (await launcher._dropped.Task is { } problem)
        {
            throw new InvalidOperationException(problem);
        }

        return launcher;
    }

    /// <summary>Starts <paramref name="info"/> from the unprivileged thread.</summary>
    public Task<Process> StartAsync(ProcessStartInfo info)
    {
        var started = new TaskCompletionSource<Process>(TaskCreationOptions.RunContinuationsAsynchronously);
        _queue.Add((info, started));
        return started.Task;
    }

    private void Run()
    {
        string? problem = Drop();
        _dropped.SetResult(problem);
        if (problem is not null)
        {
            return;
        }

        foreach (var (info, started) in _queue.GetConsumingEnumerable())
        {
            try
            {
                info.UserName = _userName ?? "";
                started.SetResult(Process.Start(info)!);
            }
            catch (Exception e)
            {
                started.SetException(e);
            }
        }
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

            _userName = Nobody;
        }

        if (LinuxCalls.Prctl(LinuxCalls.PrCapAmbient, LinuxCalls.PrCapAmbientClearAll, 0, 0, 0) != 0)
        {
            return $"prctl(PR_CAP_AMBIENT_CLEAR_ALL): errno {Marshal.GetLastPInvokeError()}";
        }

        if (LinuxCalls.Prctl(LinuxCalls.PrSetNoNewPrivs, 1, 0, 0, 0) != 0)
        {
            return $"prctl(PR_SET_NO_NEW_PRIVS): errno {Marshal.GetLastPInvokeError()}";
        }

        return null;
    }
}
