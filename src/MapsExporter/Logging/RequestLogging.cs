using System.Text;
using Serilog;
using Serilog.Events;

namespace MapsExporter.Logging;

/// <summary>
/// One line per request through Serilog.AspNetCore's request logging: at Debug (scrapes come every 15 s and say
/// nothing new), at Error when the request threw. Method, path (never the query), status, duration, bytes sent and
/// the client's address; never a header. The path is escaped: a client chooses it, and a quote or a newline in it
/// must not make a second logfmt field or line.
/// </summary>
internal static class RequestLogging
{
    public const string Template = "HTTP {RequestMethod} {RequestPath} responded {StatusCode} in {Elapsed:0.0} ms, {ResponseBytes} bytes to {ClientAddress}";

    public static WebApplication UseDaemonRequestLogging(this WebApplication app)
    {
        app.UseSerilogRequestLogging(options =>
        {
            // The host's logger: the static one stays the bootstrap logger (DaemonLogging).
            options.Logger = app.Services.GetRequiredService<Serilog.ILogger>();
            options.MessageTemplate = Template;
            options.IncludeQueryInRequestPath = false;
            options.GetLevel = (_, _, exception) => exception is null ? LogEventLevel.Debug : LogEventLevel.Error;
            options.GetMessageTemplateProperties = (context, path, elapsed, status) =>
            [
                new LogEventProperty("RequestMethod", new ScalarValue(Escape(context.Request.Method))),
                new LogEventProperty("RequestPath", new ScalarValue(Escape(path))),
                new LogEventProperty("StatusCode", new ScalarValue(status)),
                new LogEventProperty("Elapsed", new ScalarValue(elapsed)),
                new LogEventProperty("ClientAddress", new ScalarValue(context.Connection.RemoteIpAddress?.ToString() ?? "unknown")),
            ];
        });
        // Inside the request logging: count what goes out, gzip and chunked bodies too, and hand it to the line.
        app.Use(async (context, next) =>
        {
            Stream body = context.Response.Body;
            var counting = new CountingStream(body);
            context.Response.Body = counting;
            try
            {
                await next(context);
            }
            finally
            {
                context.Response.Body = body;
                context.RequestServices.GetRequiredService<IDiagnosticContext>().Set("ResponseBytes", counting.Written);
            }
        });
        return app;
    }

    /// <summary>Control characters, quotes and backslashes as \xNN, at most 200 characters: what a client sent, safe in one logfmt field.</summary>
    internal static string Escape(string text)
    {
        const int Limit = 200;
        var escaped = new StringBuilder(Math.Min(text.Length, Limit) + 8);
        foreach (char c in text.Length > Limit ? text[..Limit] : text)
        {
            if (c is < ' ' or '"' or '\\' or (>= '\u007f' and <= '\u009f'))
            {
                escaped.Append(System.Globalization.CultureInfo.InvariantCulture, $"\\x{(int)c:x2}");
            }
            else
            {
                escaped.Append(c);
            }
        }

        return text.Length > Limit ? escaped.Append("...").ToString() : escaped.ToString();
    }
}
