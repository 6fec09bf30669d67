namespace MapsExporter.MemoryConsole;

/// <summary>A JSON document already written, with its status code (<c>Results.Bytes</c> takes none), its length known.</summary>
internal sealed class JsonBytesResult(byte[] body, int statusCode = StatusCodes.Status200OK) : IResult
{
    public Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.StatusCode = statusCode;
        httpContext.Response.ContentType = ProcessApi.ContentType;
        httpContext.Response.ContentLength = body.Length;
        return httpContext.Response.Body.WriteAsync(body, httpContext.RequestAborted).AsTask();
    }
}
