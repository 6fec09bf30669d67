using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using MapsExporter.Tests.Cli;
using MapsExporter.Tests.Daemon;
using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Integration;

/// <summary>
/// <c>/api/v1</c> and <c>/process/PID</c> of the daemon (real Kestrel) watching a real JVM: the process document is
/// the bytes <c>report PID --format json</c> writes, status codes and content types, and basic auth on every path.
/// </summary>
public sealed class MemoryConsoleApiTests
{
    private static readonly string PasswordHash = BCrypt.Net.BCrypt.HashPassword("correct horse", 4);

    [Fact]
    public async Task The_process_document_equals_report_json_of_the_same_stopped_jvm_and_unknown_or_bad_pids_are_404_and_400()
    {
        // Its own cgroup, so that the cgroup's usage is the JVM's alone and stands still with it.
        using var cgroups = new TestCgroups();
        string unit = cgroups.Make("system.slice/console-api.service");
        using JavaWorkload jvm = JavaWorkload.Start(RepoPaths.Jdk17, ["-XX:+UseG1GC", "-Xmx128m"], 4, ["--native-churn"], new Dictionary<string, string> { ["MAPSEXPORTER_CGROUP_PROCS"] = TestCgroups.Procs(unit) });
        string pid = jvm.Pid.ToString(CultureInfo.InvariantCulture);
        // smaps every scan, as 'report' reads a JVM under 1 GiB.
        await using RunningDaemon daemon = await RunningDaemon.StartAsync("--scan.interval=1s", "--scan.smaps-interval=0s", "--scan.resident=smaps");
        await daemon.WaitForAsync(s => s.Pids("mapsexporter_thread_stacks").Contains(pid), "the JVM in a scan");

        string api, report;
        using (new StoppedProcess(jvm.Pid))
        {
            // Two scans that began after the stop.
            DateTimeOffset stopped = DateTimeOffset.UtcNow;
            await Poll.UntilAsync(() => Task.FromResult(daemon.Latest.Snapshot!.Timestamp), t => t > stopped.AddSeconds(2.5), TimeSpan.FromSeconds(30), "two scans of the stopped JVM");
            using HttpResponseMessage response = await daemon.Http.GetAsync(new Uri($"/api/v1/processes/{pid}", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
            api = await response.Content.ReadAsStringAsync();
            var (code, stdout, stderr) = ReportCommandTests.Run("report", pid, "--format", "json");
            Assert.True(code == 0, stderr);
            report = stdout;
        }

        // Byte for byte but Pss: a page's share moves when another process maps or unmaps it, and the report command
        // itself maps the same libc and libraries while it reads (and Pss is the only figure another process moves).
        Assert.Equal(MaskProportional(report), MaskProportional(api));
        Assert.NotEqual(MaskProportional(report), report);
        using (JsonDocument doc = JsonDocument.Parse(api))
        {
            Assert.Equal(jvm.Pid, doc.RootElement.GetProperty("pid").GetInt32());
            Assert.Equal("/system.slice/console-api.service", doc.RootElement.GetProperty("cgroup").GetProperty("path").GetString()![^"/system.slice/console-api.service".Length..]);
        }

        // The list and the history name the JVM; the history has a row per scan.
        using (JsonDocument list = JsonDocument.Parse(await daemon.Http.GetStringAsync(new Uri("/api/v1/processes", UriKind.Relative))))
        {
            JsonElement entry = list.RootElement.GetProperty("processes").EnumerateArray().Single(p => p.GetProperty("pid").GetInt32() == jvm.Pid);
            Assert.Equal("Workload", entry.GetProperty("app").GetString());
            Assert.Equal("unit console-api.service", entry.GetProperty("where").GetString());
            Assert.True(entry.GetProperty("resident_bytes").GetInt64() > entry.GetProperty("java_heap_resident_bytes").GetInt64());
            Assert.Equal(128L << 20, entry.GetProperty("java_heap_max_bytes").GetInt64());
            Assert.Equal(3600, list.RootElement.GetProperty("window_seconds").GetInt32());
        }

        using (JsonDocument history = JsonDocument.Parse(await daemon.Http.GetStringAsync(new Uri($"/api/v1/processes/{pid}/history", UriKind.Relative))))
        {
            int samples = history.RootElement.GetProperty("samples").GetInt32();
            Assert.True(samples >= 3, $"{samples} samples");
            Assert.Equal(samples, history.RootElement.GetProperty("timestamps").GetArrayLength());
            Assert.Equal(samples, history.RootElement.GetProperty("resident_bytes_by_category").GetProperty("malloc_mmap").GetArrayLength());
            Assert.All(history.RootElement.GetProperty("threads").EnumerateArray(), t => Assert.True(t.GetInt32() >= 4));
        }

        foreach (string path in new[] { "/api/v1/processes/999999999", "/api/v1/processes/999999999/history" })
        {
            using HttpResponseMessage missing = await daemon.Http.GetAsync(new Uri(path, UriKind.Relative));
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
            Assert.Equal("application/json", missing.Content.Headers.ContentType!.MediaType);
            Assert.Contains("not in the last scan", await missing.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        foreach (string path in new[] { "/api/v1/processes/abc", "/api/v1/processes/-1", "/api/v1/processes/0/history" })
        {
            using HttpResponseMessage bad = await daemon.Http.GetAsync(new Uri(path, UriKind.Relative));
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Equal("application/json", bad.Content.Headers.ContentType!.MediaType);
        }

        using HttpResponseMessage page = await daemon.Http.GetAsync(new Uri($"/process/{pid}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType!.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, (await daemon.Http.GetAsync(new Uri("/process/999999999", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await daemon.Http.GetAsync(new Uri("/process/x", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await daemon.Http.GetAsync(new Uri("/?sort=age", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task Every_path_is_401_without_credentials_when_basic_auth_is_on()
    {
        using JavaWorkload jvm = JavaWorkload.Start(RepoPaths.Jdk17, ["-Xmx128m"], 2);
        string pid = jvm.Pid.ToString(CultureInfo.InvariantCulture);
        string config = Path.Combine(Directory.CreateTempSubdirectory("mapsexporter-auth-").FullName, "web.yml");
        File.WriteAllText(config, $"basic_auth_users:\n  ops: '{PasswordHash}'\n");
        await using RunningDaemon daemon = await RunningDaemon.StartAsync("--scan.interval=1s", $"--web.config.file={config}");
        string[] paths = ["/", "/?sort=growth", "/metrics", "/healthz", $"/process/{pid}", "/api/v1/processes", $"/api/v1/processes/{pid}", $"/api/v1/processes/{pid}/history", "/api/v1/processes/999999999", "/process/x"];
        string credentials = Convert.ToBase64String(Encoding.UTF8.GetBytes("ops:correct horse"));
        await Poll.UntilAsync(
            async () =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/processes/{pid}/history");
                request.Headers.Authorization = new AuthenticationHeaderValue("Basic", credentials);
                using HttpResponseMessage response = await daemon.Http.SendAsync(request);
                return response.StatusCode;
            },
            s => s == HttpStatusCode.OK, TimeSpan.FromSeconds(30), "the JVM's history with credentials");
        foreach (string path in paths)
        {
            using HttpResponseMessage anonymous = await daemon.Http.GetAsync(new Uri(path, UriKind.Relative));
            Assert.True(anonymous.StatusCode == HttpStatusCode.Unauthorized, $"{path}: {anonymous.StatusCode}");
            Assert.DoesNotContain(pid, await anonymous.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", credentials);
            using HttpResponseMessage authorized = await daemon.Http.SendAsync(request);
            Assert.True(authorized.StatusCode is HttpStatusCode.OK or HttpStatusCode.NotFound or HttpStatusCode.BadRequest, $"{path} with credentials: {authorized.StatusCode}");
        }
    }

    private static string MaskProportional(string json) =>
        System.Text.RegularExpressions.Regex.Replace(json, "\"proportional_bytes\": \\d+", "\"proportional_bytes\": PSS");
}
