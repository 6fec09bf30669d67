using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Core.Parsing.Smaps;

namespace MapsExporter.Core.Classifying.Native;

/// <summary>
/// Finds thread stacks. Exactly, when each thread's stack pointer is known (<c>/proc/PID/task/TID/syscall</c>):
/// the VMA holding it is that thread's stack and the PROT_NONE VMA right below it is its guard. By layout
/// otherwise, and for threads shown <c>running</c> (no stack pointer): since Linux 6.7 MAP_STACK sets <c>nh</c>,
/// so a read/write anonymous VMA with <c>nh</c> is a stack; without that flag (a maps dump, an older kernel) a
/// small guard directly below a read/write region of stack-like size. The kernel names only the main thread's
/// <c>[stack]</c> (since 4.5). A stack glibc keeps cached after its thread exited looks like a live one: with
/// stack pointers it is still a stack's memory but counts for no thread.
/// </summary>
public static class ThreadStackLocator
{
    /// <summary>Distinct thread-name groups kept per process; the rest are summed as "other".</summary>
    public const int MaxThreadGroups = 20;

    private const ulong MaxGuardBytes = 256 * 1024;
    private const ulong Granule = 64 * 1024;

    [ThreadStatic]
    private static Dictionary<int, string>? t_claimedBy;

    [ThreadStatic]
    private static List<int>? t_unclaimed;

    public static void Locate(MappingTable table, Classification result, IReadOnlyList<ThreadSample>? threads = null)
    {
        ReadOnlySpan<Mapping> items = table.Items;
        int withoutStackPointer = 0;
        // Reused (cleared) between calls: no allocation per stack in steady state.
        Dictionary<int, string> claimedBy = t_claimedBy ??= [];
        claimedBy.Clear();
        if (threads is { Count: > 0 } && threads.Any(t => t.HasStackPointer))
        {
            foreach (ThreadSample thread in threads)
            {
                int index = thread.HasStackPointer ? Classification.IndexOf(items, thread.StackPointer) : -1;
                if (index < 0 || !IsStackCandidate(items[index], result, index))
                {
                    withoutStackPointer++;
                    continue;
                }

                if (claimedBy.TryAdd(index, thread.Group))
                {
                    ClaimStack(items, result, index);
                }
            }

            result.Decided(RegionCategory.ThreadStack, DecisionMethod.StackPointer);
            if (withoutStackPointer > 0)
            {
                result.Fallbacks.Add(DecisionMethod.StackPointer);
            }
        }
        else
        {
            result.Fallbacks.Add(DecisionMethod.StackPointer);
            withoutStackPointer = int.MaxValue;
        }

        // Layout for the rest: [stack] and stack-shaped VMAs no thread claimed.
        bool byFlag = table.HasSmapsFields && AnyStackFlag(items, result);
        List<int> unclaimed = t_unclaimed ??= [];
        unclaimed.Clear();
        bool anyClaimed = claimedBy.Count > 0;
        for (int i = 0; i < items.Length; i++)
        {
            // Without stack pointers nothing is claimed: no lookup per mapping.
            if (anyClaimed && claimedBy.ContainsKey(i))
            {
                continue;
            }

            bool isStack = items[i].Kind == MappingKind.Stack
                || (!result.IsAssigned(i) && IsAnonymousReadWrite(items[i])
                    && (byFlag ? items[i].HasFlag(VmFlags.NoHugePage) && !items[i].HasFlag(VmFlags.NoReserve) : HasStackShape(items, i, result)));
            if (isStack)
            {
                ClaimStack(items, result, i);
                unclaimed.Add(i);
            }
        }

        // Threads without a stack pointer take unclaimed stacks; stacks left over are glibc's cache of dead threads' stacks.
        int counted = Math.Min(unclaimed.Count, withoutStackPointer);
        result.ThreadStacks = claimedBy.Count + counted;
        if (threads is not null && claimedBy.Count > 0)
        {
            int next = 0;
            foreach (ThreadSample thread in threads)
            {
                if (next >= counted)
                {
                    break;
                }

                int index = thread.HasStackPointer ? Classification.IndexOf(items, thread.StackPointer) : -1;
                if (index < 0 || !claimedBy.ContainsKey(index))
                {
                    claimedBy[unclaimed[next++]] = thread.Group;
                }
            }

            GroupByThreadName(items, result, claimedBy);
        }
    }

    private static void ClaimStack(ReadOnlySpan<Mapping> items, Classification result, int index)
    {
        result.Assign(index, RegionCategory.ThreadStack);
        if (HasGuard(items, index) && (!result.IsAssigned(index - 1) || result[index - 1] == RegionCategory.ThreadStack))
        {
            result.Assign(index - 1, RegionCategory.ThreadStack);
        }
    }

    private static void GroupByThreadName(ReadOnlySpan<Mapping> items, Classification result, Dictionary<int, string> stacks)
    {
        var groups = new Dictionary<string, (int Threads, long Rss, long Vsz)>(StringComparer.Ordinal);
        foreach (var (index, group) in stacks)
        {
            long rss = Math.Max(items[index].ResidentBytes, 0), vsz = (long)items[index].Size;
            if (HasGuard(items, index) && result[index - 1] == RegionCategory.ThreadStack)
            {
                rss += Math.Max(items[index - 1].ResidentBytes, 0);
                vsz += (long)items[index - 1].Size;
            }

            var s = groups.GetValueOrDefault(group);
            groups[group] = (s.Threads + 1, s.Rss + rss, s.Vsz + vsz);
        }

        int kept = 0;
        foreach (var (group, s) in groups.OrderByDescending(g => g.Value.Rss).ThenBy(g => g.Key, StringComparer.Ordinal))
        {
            string name = kept++ < MaxThreadGroups - 1 || groups.Count <= MaxThreadGroups ? group : "other";
            ThreadGroupStacks previous = result.ThreadGroups.GetValueOrDefault(name) ?? new ThreadGroupStacks(0, 0, 0);
            result.ThreadGroups[name] = new ThreadGroupStacks(previous.Threads + s.Threads, previous.ResidentBytes + s.Rss, previous.VirtualBytes + s.Vsz);
        }
    }

    /// <summary>A stack pointer must point into anonymous read/write memory (or [stack]) nobody else claimed.</summary>
    private static bool IsStackCandidate(in Mapping m, Classification result, int index) =>
        m.Kind == MappingKind.Stack || (IsAnonymousReadWrite(m) && (!result.IsAssigned(index) || result[index] == RegionCategory.ThreadStack));

    private static bool AnyStackFlag(ReadOnlySpan<Mapping> items, Classification result)
    {
        for (int i = 0; i < items.Length; i++)
        {
            if (!result.IsAssigned(i) && IsAnonymousReadWrite(items[i]) && items[i].HasFlag(VmFlags.NoHugePage))
            {
                return true;
            }
        }

        return false;
    }

    private static bool HasStackShape(ReadOnlySpan<Mapping> items, int i, Classification result)
    {
        if (!HasGuard(items, i) || result.IsAssigned(i - 1))
        {
            return false;
        }

        ulong guard = items[i - 1].Size, stack = items[i].Size;
        // Guards are pages, never whole 64 KiB granules (HotSpot commits metaspace in those).
        return guard % Granule != 0 && stack >= Granule && (stack % Granule == 0 || (stack + guard) % Granule == 0);
    }

    private static bool IsAnonymousReadWrite(in Mapping m) =>
        m.Kind is MappingKind.Anonymous or MappingKind.NamedAnonymous && m.IsPrivateReadWrite && (m.Permissions & Permissions.Execute) == 0;

    /// <summary>
    /// Whether the VMA right below <paramref name="index"/> is its guard: small, PROT_NONE, private, anonymous, and not
    /// MAP_NORESERVE where smaps shows it. A stack's guard is one VMA: glibc's guard and HotSpot's guard zones are
    /// PROT_NONE pieces of the same mapping, which the kernel keeps merged. A second PROT_NONE VMA below it differs in
    /// flags (a HotSpot reservation's MAP_NORESERVE rest, e.g. a code heap's segment map): only smaps shows those, so
    /// one guard per stack keeps a maps-only read (what a pagemap read classifies) from taking it.
    /// </summary>
    private static bool HasGuard(ReadOnlySpan<Mapping> items, int index)
    {
        if (index == 0)
        {
            return false;
        }

        ref readonly Mapping m = ref items[index - 1];
        return m.Kind == MappingKind.Anonymous && m.IsNoAccess && (m.Permissions & Permissions.Shared) == 0
            && m.End == items[index].Start && m.Size <= MaxGuardBytes && !m.HasFlag(VmFlags.NoReserve);
    }
}
