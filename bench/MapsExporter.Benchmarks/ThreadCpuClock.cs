using System.Runtime.InteropServices;

namespace MapsExporter.Benchmarks;

/// <summary>
/// This thread's CPU time. <see cref="Now"/> is <c>clock_gettime(CLOCK_THREAD_CPUTIME_ID)</c>, exact to the
/// nanosecond (the scheduler adds the running slice); <c>/proc/self/stat</c>, what
/// <see cref="System.Diagnostics.Process"/> reads, counts 10 ms ticks for the whole process, background JIT
/// compilation and GC threads included, and <c>getrusage</c> leaves out the slice since the last tick.
/// <see cref="UserAndSystem"/> (getrusage) only apportions a total between user and kernel time, by tick samples.
/// </summary>
internal static partial class ThreadCpuClock
{
    private const int RusageThread = 1;
    private const int ClockThreadCpuTime = 3;

    public static TimeSpan Now()
    {
        if (ClockGetTime(ClockThreadCpuTime, out TimeSpec now) != 0)
        {
            throw new InvalidOperationException($"clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed: errno {Marshal.GetLastPInvokeError()}");
        }

        return TimeSpan.FromTicks((now.Seconds * TimeSpan.TicksPerSecond) + (now.Nanoseconds / 100));
    }

    public static (TimeSpan User, TimeSpan System) UserAndSystem()
    {
        if (GetRusage(RusageThread, out Rusage usage) != 0)
        {
            throw new InvalidOperationException($"getrusage(RUSAGE_THREAD) failed: errno {Marshal.GetLastPInvokeError()}");
        }

        return (usage.User.ToTimeSpan(), usage.System.ToTimeSpan());
    }

    [LibraryImport("libc", EntryPoint = "getrusage", SetLastError = true)]
    private static partial int GetRusage(int who, out Rusage usage);

    [LibraryImport("libc", EntryPoint = "clock_gettime", SetLastError = true)]
    private static partial int ClockGetTime(int clock, out TimeSpec now);

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeVal
    {
        public long Seconds;
        public long Microseconds;

        public readonly TimeSpan ToTimeSpan() => TimeSpan.FromTicks((Seconds * TimeSpan.TicksPerSecond) + (Microseconds * 10));
    }

    // struct rusage on x86-64 Linux: two timevals, then 14 longs this benchmark does not read.
    [StructLayout(LayoutKind.Sequential, Size = 144)]
    private struct Rusage
    {
        public TimeVal User;
        public TimeVal System;
    }
}
