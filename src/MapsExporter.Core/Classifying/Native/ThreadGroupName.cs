using System.Text;
using MapsExporter.Core.Parsing;

namespace MapsExporter.Core.Classifying.Native;

/// <summary>
/// Folds a thread's name into its group: numbers after a separator become <c>N</c> (<c>GC Thread#3</c> →
/// <c>GC Thread#N</c>, <c>pool-2-thread-17</c> → <c>pool-N-thread-N</c>) while those after a letter stay
/// (<c>C2 CompilerThre</c>, <c>G1 Refine#0</c> → <c>G1 Refine#N</c>); control characters become '?'.
/// </summary>
public static class ThreadGroupName
{
    public static string Fold(ReadOnlySpan<byte> comm)
    {
        string name = AppNameResolver.Sanitize(comm);
        var folded = new StringBuilder(name.Length);
        bool folding = false;
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            // A number that follows a letter is part of a name (C2, G1, http2); one after a separator counts instances.
            if (char.IsAsciiDigit(c) && (folding || i == 0 || !char.IsAsciiLetter(name[i - 1])))
            {
                if (!folding)
                {
                    folded.Append('N');
                }

                folding = true;
                continue;
            }

            folding = false;
            folded.Append(c);
        }

        return folded.ToString();
    }
}
