namespace MapsExporter.Tests.Daemon;

/// <summary>Waits for a condition with a deadline, never a fixed sleep.</summary>
public static class Poll
{
    public static async Task<T> UntilAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan timeout, string what)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        T last = await probe();
        while (!done(last))
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"timed out after {timeout.TotalSeconds:F0} s waiting for {what}; last: {Describe(last)}");
            }

            await Task.Delay(50);
            last = await probe();
        }

        return last;
    }

    private static string Describe<T>(T value) => value switch
    {
        MetricsScrape scrape => scrape.Text.Length > 4000 ? scrape.Text[..4000] : scrape.Text,
        _ => value?.ToString() ?? "null",
    };
}
