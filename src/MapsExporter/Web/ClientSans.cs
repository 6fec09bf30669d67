using System.Formats.Asn1;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace MapsExporter.Web;

/// <summary>
/// A certificate's subject alternative names as the toolkit compares them with client_allowed_sans: DNS names,
/// email addresses, IP addresses (in their usual text form) and URIs. Read from the extension's DER (RFC 5280
/// GeneralNames): .NET's own reader gives DNS names and IP addresses only.
/// </summary>
internal static class ClientSans
{
    private static readonly Asn1Tag Email = new(TagClass.ContextSpecific, 1);
    private static readonly Asn1Tag Dns = new(TagClass.ContextSpecific, 2);
    private static readonly Asn1Tag Uri = new(TagClass.ContextSpecific, 6);
    private static readonly Asn1Tag Ip = new(TagClass.ContextSpecific, 7);

    public static List<string> Read(X509Certificate2 certificate)
    {
        var names = new List<string>();
        if (certificate.Extensions["2.5.29.17"] is not { } extension)
        {
            return names;
        }

        try
        {
            var reader = new AsnReader(extension.RawData, AsnEncodingRules.DER);
            AsnReader sequence = reader.ReadSequence();
            while (sequence.HasData)
            {
                Asn1Tag tag = sequence.PeekTag();
                if (tag.HasSameClassAndValue(Email) || tag.HasSameClassAndValue(Dns) || tag.HasSameClassAndValue(Uri))
                {
                    names.Add(sequence.ReadCharacterString(UniversalTagNumber.IA5String, tag));
                }
                else if (tag.HasSameClassAndValue(Ip))
                {
                    byte[] address = sequence.ReadOctetString(tag);
                    if (address.Length is 4 or 16)
                    {
                        names.Add(new IPAddress(address).ToString());
                    }
                }
                else
                {
                    sequence.ReadEncodedValue(); // other names, directory names...: not compared
                }
            }
        }
        catch (Exception e) when (e is AsnContentException or CryptographicException)
        {
            // A malformed extension matches nothing.
        }

        return names;
    }
}
