using MapsExporter.Core.Classifying;
using MapsExporter.Core.Reporting;
using MapsExporter.Core.Scanning;

namespace MapsExporter.Tests.Performance;

/// <summary>
/// <c>--scan.resident</c>: which read the cost control plans between smaps reads, from the costs earlier reads of the
/// process measured (given here as the results' durations: the decision is tested, not the clock), and what a pagemap
/// read publishes with the last smaps read's Pss.
/// </summary>
public sealed class ResidentModeTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);
    private readonly Clock _time = new();
    private readonly ProcessState _state = new(100, 1);

    [Fact]
    public void Auto_reads_pagemap_while_smaps_costs_at_least_four_times_as_much_and_maps_only_once_it_does_not()
    {
        var cost = new ScanCostControl(new ScanCostOptions { SmapsInterval = Interval, Resident = ResidentMode.Auto }, _time);
        Assert.Equal(ScanMode.Smaps, Read(cost, TimeSpan.FromMilliseconds(40)));
        // Never measured: tried once.
        Assert.Equal(ScanMode.Pagemap, Read(cost, TimeSpan.FromMilliseconds(10)));
        Assert.Equal(ScanMode.Pagemap, Read(cost, TimeSpan.FromMilliseconds(10)));

        // The next smaps read costs less than four pagemap reads (a small heap, a THP-backed one): maps only between.
        _time.Advance(Interval);
        Assert.Equal(ScanMode.Smaps, Read(cost, TimeSpan.FromMilliseconds(39)));
        Assert.Equal(ScanMode.MapsCached, Read(cost, TimeSpan.FromMilliseconds(1)));
    }

    [Fact]
    public void Pagemap_is_not_planned_for_a_process_its_last_read_found_unsuitable_and_smaps_mode_never_plans_it()
    {
        var pagemap = new ScanCostControl(new ScanCostOptions { SmapsInterval = Interval, Resident = ResidentMode.Pagemap }, _time);
        Assert.Equal(ScanMode.Smaps, Read(pagemap, TimeSpan.FromMilliseconds(40), PagemapFallbacks.HeapNotExact));
        Assert.Equal(ScanMode.MapsCached, Read(pagemap, TimeSpan.FromMilliseconds(1)));

        var smaps = new ScanCostControl(new ScanCostOptions { SmapsInterval = Interval, Resident = ResidentMode.Smaps }, _time);
        var state = new ProcessState(101, 1);
        smaps.Complete(state, Result(ScanMode.Smaps, TimeSpan.FromSeconds(4)));
        Assert.Equal(ScanMode.MapsCached, smaps.Plan(state, useSmaps: true, () => 1L << 40));
    }

    [Fact]
    public void A_pagemap_read_publishes_fresh_rss_and_swap_with_the_last_smaps_reads_pss_and_its_time()
    {
        var cost = new ScanCostControl(new ScanCostOptions { SmapsInterval = Interval, Resident = ResidentMode.Pagemap }, _time);
        DateTimeOffset smapsAt = _time.GetUtcNow();
        cost.Complete(_state, Result(ScanMode.Smaps, TimeSpan.FromMilliseconds(40), rss: 100, pss: 70));
        _time.Advance(TimeSpan.FromSeconds(15));
        Assert.Equal(ScanMode.Pagemap, cost.Plan(_state, useSmaps: true, () => 0));
        InspectionResult published = cost.Complete(_state, Result(ScanMode.Pagemap, TimeSpan.FromMilliseconds(3), rss: 120, pss: null) with { ResidentReadAt = _time.GetUtcNow() });

        Assert.Equal(120, published.Report[RegionCategory.JavaHeap].ResidentBytes);
        Assert.Equal(70, published.Report[RegionCategory.JavaHeap].ProportionalBytes);
        Assert.Equal(70 * RegionCategories.Count, published.Totals!.Value.ProportionalBytes);
        Assert.Equal(120 * RegionCategories.Count, published.Totals!.Value.ResidentBytes);
        Assert.Equal(smapsAt, published.ProportionalReadAt);
        Assert.Equal(_time.GetUtcNow(), published.ResidentReadAt);
        Assert.Equal(MemoryReport.PagemapSource, published.Report.ResidentSource);
    }

    [Theory]
    [InlineData("auto", ResidentMode.Auto)]
    [InlineData("SMAPS", ResidentMode.Smaps)]
    [InlineData("pagemap", ResidentMode.Pagemap)]
    [InlineData("rollup", null)]
    [InlineData("", null)]
    public void Modes_parse_by_their_names(string id, ResidentMode? mode)
    {
        Assert.Equal(mode, ResidentModes.Parse(id));
        if (mode is { } m)
        {
            Assert.Equal(id.ToLowerInvariant(), m.Id());
        }
    }

    /// <summary>Plans the next read 15 s on, and completes it as taking <paramref name="took"/>.</summary>
    private ScanMode Read(ScanCostControl cost, TimeSpan took, string? unsuitable = null)
    {
        ScanMode mode = cost.Plan(_state, useSmaps: true, () => 0);
        cost.Complete(_state, Result(mode, took) with { PagemapUnsuitable = unsuitable });
        _time.Advance(TimeSpan.FromSeconds(15));
        return mode;
    }

    private InspectionResult Result(ScanMode mode, TimeSpan took, long rss = 1, long? pss = 1)
    {
        var categories = new CategoryTotals[RegionCategories.Count];
        Array.Fill(categories, new CategoryTotals(1, 4096, rss, pss, 0));
        string? source = mode switch
        {
            ScanMode.Smaps => MemoryReport.SmapsSource,
            ScanMode.Pagemap => MemoryReport.PagemapSource,
            _ => null,
        };
        var report = new MemoryReport(categories) { App = "test", Source = "test", ResidentKnown = source is not null, ResidentSource = source };
        ResidentTotals? totals = source is null ? null : new ResidentTotals(rss * categories.Length, pss * categories.Length, 0);
        return new InspectionResult(report, mode, took) { Totals = totals, ResidentReadAt = totals is null ? null : _time.GetUtcNow() };
    }

    private sealed class Clock : TimeProvider
    {
        private DateTimeOffset _now = DateTimeOffset.UnixEpoch;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
