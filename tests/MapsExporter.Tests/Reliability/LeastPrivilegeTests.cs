using System.Text.RegularExpressions;
using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Reliability;

/// <summary>
/// Under strace, the daemon (as root, scanning every process) opens nothing for writing, creates, renames or removes
/// nothing outside its own temp space (TMPDIR: the runtime's diagnostics socket) and /dev/null (and its own threads' names in /proc/self/task); HOME is unusable.
/// </summary>
public sealed partial class LeastPrivilegeTests
{
    [Fact]
    public async Task The_daemon_writes_nothing_outside_its_temp_space()
    {
        string tmp = Directory.CreateTempSubdirectory("mapsexporter-tmp-").FullName;
        string trace = Path.Combine(Path.GetTempPath(), $"mapsexporter-strace-{Guid.NewGuid():N}.log");
        try
        {
            using (Exporter exporter = await Exporter.StartAsync(["--scan.interval=200ms", "--selection.include-native=.*"],
                new Dictionary<string, string> { ["TMPDIR"] = tmp, ["HOME"] = "/nonexistent" },
                "strace", ["-f", "-qq", "-o", trace, "-e", "trace=open,openat,openat2,creat,mkdir,mkdirat,rename,renameat,renameat2,unlink,unlinkat,truncate,symlink,symlinkat,link,linkat"]))
            {
                await Task.Delay(2000);
                Assert.NotEmpty((await exporter.ScrapeAsync()).AllPids());
                // SIGTERM to the daemon, strace's child, so its shutdown is traced too.
                string child = File.ReadAllText($"/proc/{exporter.Pid}/task/{exporter.Pid}/children").Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
                Assert.Equal(0, ToolRunner.Run("kill", ["-TERM", child]).ExitCode);
                Assert.True(exporter.Daemon.Process.WaitForExit(20_000), "no exit after SIGTERM");
                Assert.Equal(0, exporter.Daemon.Process.ExitCode);
            }

            var writes = new List<string>();
            foreach (string line in await File.ReadAllLinesAsync(trace))
            {
                Match call = Call().Match(line);
                if (!call.Success || call.Groups["result"].Value.StartsWith('-'))
                {
                    continue; // not a path call, or it failed
                }

                string name = call.Groups["name"].Value;
                bool writing = !name.StartsWith("open", StringComparison.Ordinal) || WriteFlags().IsMatch(call.Groups["args"].Value);
                string file = call.Groups["path"].Value;
                if (writing && !file.StartsWith(tmp + "/", StringComparison.Ordinal) && file is not "/dev/null" and not "/dev/tty"
                    && !file.StartsWith("/proc/self/task/", StringComparison.Ordinal)) // the runtime naming its own threads
                {
                    writes.Add(line);
                }
            }

            Assert.True(writes.Count == 0, "writes outside TMPDIR:\n" + string.Join('\n', writes.Take(20)));
        }
        finally
        {
            Directory.Delete(tmp, recursive: true);
            File.Delete(trace);
        }
    }

    [GeneratedRegex("""^\d+\s+(?<name>\w+)\((?:AT_FDCWD|\d+), "(?<path>[^"]*)"(?<args>[^)]*)\)\s*=\s*(?<result>-?\d+)""")]
    private static partial Regex Call();

    [GeneratedRegex("O_WRONLY|O_RDWR|O_CREAT|O_TRUNC")]
    private static partial Regex WriteFlags();
}
