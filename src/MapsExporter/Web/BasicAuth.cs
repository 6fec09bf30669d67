using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;

namespace MapsExporter.Web;

/// <summary>
/// HTTP basic auth against <c>basic_auth_users</c>' bcrypt hashes, on every path (as the exporter-toolkit does).
/// bcrypt is slow on purpose (about 50 ms at cost 10); a scrape every 15 s would pay that each time, so a verified
/// (user, SHA-256 of password, hash) triple is cached, as the toolkit caches. Wrong passwords are never cached.
/// </summary>
internal sealed class BasicAuth(IReadOnlyDictionary<string, string> users)
{
    private const int CacheLimit = 256;
    // A fixed valid hash to verify against for an unknown user, so that its answer takes as long as a known one's.
    private const string DummyHash = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DSmTWcY7kIWtYMG.4lsIO";
    private readonly ConcurrentDictionary<string, byte> _verified = new(StringComparer.Ordinal);

    public bool Enabled => users.Count > 0;

    public bool IsAuthorized(string? authorization)
    {
        if (!TryDecode(authorization, out string user, out string password))
        {
            return false;
        }

        bool known = users.TryGetValue(user, out string? hash);
        string key = $"{user}\n{Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(password)))}\n{hash}";
        if (known && _verified.ContainsKey(key))
        {
            return true;
        }

        bool ok;
        try
        {
            ok = BCrypt.Net.BCrypt.Verify(password, hash ?? DummyHash) && known;
        }
        catch (BCrypt.Net.SaltParseException)
        {
            ok = false;
        }

        if (ok)
        {
            if (_verified.Count >= CacheLimit)
            {
                _verified.Clear();
            }

            _verified[key] = 0;
        }

        return ok;
    }

    private static bool TryDecode(string? authorization, out string user, out string password)
    {
        user = password = "";
        if (authorization is null || !AuthenticationHeaderValue.TryParse(authorization, out AuthenticationHeaderValue? header)
            || !string.Equals(header.Scheme, "Basic", StringComparison.OrdinalIgnoreCase) || header.Parameter is null)
        {
            return false;
        }

        byte[] bytes = new byte[header.Parameter.Length];
        if (!Convert.TryFromBase64String(header.Parameter, bytes, out int length))
        {
            return false;
        }

        string text = Encoding.UTF8.GetString(bytes, 0, length);
        int colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            return false;
        }

        user = text[..colon];
        password = text[(colon + 1)..];
        return true;
    }
}
