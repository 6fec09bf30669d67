using System.Globalization;

namespace MapsExporter.Tests.Support;

/// <summary>
/// A process held still with SIGSTOP until disposed (SIGCONT): constructed once every one of its threads shows state
/// T in <c>/proc/PID/task/TID/stat</c>, so two reads of its memory back to back see the same pages.
/// </summary>
public sealed class StoppedProcess : IDisposable
{
    private readonly int _pid;

    public StoppedProcess(int pid)
    {
        _pid = pid;
        Signal("-STOP");
        DateTime deadline = DateTime.UtcNow.AddSeconds(10);
        while (!AllThreadsStopped())
        {
            if (DateTime.UtcNow > deadline)
            {
                Dispose();
                throw new TimeoutException($"process {pid} did not stop within 10 s");
            }

            Thread.Sleep(10);
        }
    }

    private bool AllThreadsStopped()
    {
        foreach (string task in Directory.EnumerateDirectories($"/proc/{_pid}/task"))
        {
            try
            {
                string stat = File.ReadAllText(Path.Combine(task, "stat"));
                // The state follows the comm's closing parenthesis.
                if (stat[stat.LastIndexOf(')') + 2] != 'T')
                {
                    return false;
                }
            }
            catch (IOException)
            {
                // A thread that exited meanwhile.
            }
        }

        return true;
    }

    private void Signal(string signal) =>
        Assert.Equal(0, ToolRunner.Run("kill", [signal, _pid.ToString(CultureInfo.InvariantCulture)]).ExitCode);

    public void Dispose() => Signal("-CONT");
}
