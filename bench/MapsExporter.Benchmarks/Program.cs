using BenchmarkDotNet.Running;
using MapsExporter.Benchmarks;

// bench/run.sh drives these; each prints its figures as "key value" lines it collects.
return args.FirstOrDefault() switch
{
    "bdn" => RunBdn(args[1..]),
    "wholescan" => WholeScan.Run(args[1..]),
    "cpu" => CpuOverhead.Run(args[1..]),
    "parsefile" => ParseFile.Run(args[1..]),
    "gentree" => GeneratedProcFs.Generate(args[1..]),
    "scale" => GeneratedProcFs.Scale(args[1..]),
    "mallocstate" => MallocStateCost.Run(args[1..]),
    "resident" => ResidentCost.Run(args[1..]),
    "stall" => StallWindows.Run(args[1..]),
    "history" => HistoryMemory.Run(args[1..]),
    _ => Usage(),
};

static int RunBdn(string[] rest)
{
    BenchmarkSwitcher.FromAssembly(typeof(OverheadBenchmarks).Assembly).Run(rest);
    return 0;
}

static int Usage()
{
    Console.Error.WriteLine("usage: bdn [BenchmarkDotNet args] | wholescan PID... | cpu PID... | parsefile SMAPS... | gentree DIR FIXTURE PROCESSES MAPPINGS | scale DIR COUNT... | mallocstate PID... | resident PID [ROUNDS [RANGES-FILE]] | stall PID ROUNDS | history FIXTURES-DIR [PROCESSES [WINDOW-SECONDS [INTERVAL-SECONDS]]]");
    return 2;
}
