using MapsExporter.Core.Scanning;

namespace MapsExporter.Tests.Core;

/// <summary>What is kept of a process between scans lives in one state per PID and start time, forgotten in one place.</summary>
public sealed class ProcessStatesTests
{
    [Fact]
    public void The_same_process_gets_its_state_back_and_a_reused_pid_a_new_one()
    {
        var states = new ProcessStates();
        ProcessState first = states.For(100, 500);
        Assert.Same(first, states.For(100, 500));

        ProcessState reused = states.For(100, 900);
        Assert.NotSame(first, reused);
        Assert.Null(reused.App);
        Assert.Equal(0, reused.Threads.ThreadCount);
        Assert.Equal(0, reused.ChunkProbes.Count);
        Assert.Equal(1, states.Count);
    }

    [Fact]
    public void Processes_missing_from_a_scan_s_listing_are_forgotten_with_everything_kept_of_them()
    {
        var states = new ProcessStates();
        states.For(100, 500);
        states.For(101, 500);
        states.For(102, 700);

        // 102 is listed with another start time: its PID was reused, the old process is gone.
        states.Retain(new HashSet<(int, ulong)> { (100, 500), (102, 800) });
        Assert.Equal(1, states.Count);
        Assert.NotNull(states.Find(100));
        Assert.Null(states.Find(101));
        Assert.Null(states.Find(102));
    }
}
