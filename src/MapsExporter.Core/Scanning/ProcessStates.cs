namespace MapsExporter.Core.Scanning;

/// <summary>
/// The per-process states of a scanning loop, keyed by PID and start time. A scan asks for each process it lists
/// (<see cref="For"/>: a PID seen with another start time is a new process, and its old state goes at once) and then
/// forgets every process it did not list (<see cref="Retain"/>): one place, one way to forget.
/// </summary>
public sealed class ProcessStates(TimeProvider? time = null)
{
    private readonly TimeProvider? _time = time;
    private readonly Dictionary<int, ProcessState> _states = [];

    /// <summary>Processes held (for tests and bounds).</summary>
    public int Count => _states.Count;

    /// <summary>The state of <paramref name="pid"/> started at <paramref name="startTicks"/>; a new one for a new or reused PID.</summary>
    public ProcessState For(int pid, ulong startTicks)
    {
        if (!_states.TryGetValue(pid, out ProcessState? state) || state.StartTicks != startTicks)
        {
            state = new ProcessState(pid, startTicks, _time);
            _states[pid] = state;
        }

        return state;
    }

    /// <summary>The state held for <paramref name="pid"/>, if any (for tests).</summary>
    public ProcessState? Find(int pid) => _states.GetValueOrDefault(pid);

    /// <summary>Forgets every process whose PID and start time are not in <paramref name="seen"/> (a scan's listing).</summary>
    public void Retain(IReadOnlySet<(int Pid, ulong StartTicks)> seen)
    {
        foreach ((int pid, ProcessState state) in _states)
        {
            if (!seen.Contains((pid, state.StartTicks)))
            {
                _states.Remove(pid);
            }
        }
    }
}
