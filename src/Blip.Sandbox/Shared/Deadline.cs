namespace Blip.Sandbox.Shared;

/// <summary>
/// Polls a condition until it holds or the deadline passes; then fails with what was last seen. The one "wait until"
/// of the integration tests and the benchmarks (both drive the sandbox, so it lives here).
/// </summary>
public static class Deadline
{
    private static readonly TimeSpan DefaultEvery = TimeSpan.FromMilliseconds(100);

    /// <summary>Probes every <paramref name="every"/> (100 ms unless given) until <paramref name="done"/> holds for what
    /// the probe returned, and returns that; throws <see cref="TimeoutException"/> naming <paramref name="what"/> and
    /// the last value seen once <paramref name="timeout"/> has passed.</summary>
    public static async Task<T> UntilAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan timeout, string what, CancellationToken ct = default, TimeSpan? every = null)
    {
        var until = DateTime.UtcNow + timeout;
        while (true)
        {
            var last = await probe();
            if (done(last))
            {
                return last;
            }

            if (DateTime.UtcNow > until)
            {
                throw new TimeoutException($"{what}: not reached within {timeout.TotalSeconds:F0} s; last seen: {Describe(last)}");
            }

            await Task.Delay(every ?? DefaultEvery, ct);
        }
    }

    public static Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what, CancellationToken ct = default) =>
        UntilAsync(() => Task.FromResult(condition()), ok => ok, timeout, what, ct);

    /// <summary>
    /// For probes that may throw while the thing they look at is still coming up: an exception counts as "not yet" and
    /// the last one is named if the deadline passes. Done when the probe returns a value that is neither null nor false.
    /// </summary>
    public static async Task<T> EventuallyAsync<T>(Func<Task<T?>> probe, TimeSpan timeout, string what)
    {
        Exception? last = null;
        try
        {
            return (await UntilAsync(
                async () =>
                {
                    try
                    {
                        return await probe();
                    }
                    catch (Exception e)
                    {
                        last = e;
                        return default;
                    }
                },
                value => value is not null && (value is not bool b || b),
                timeout,
                what))!;
        }
        catch (TimeoutException e) when (last is not null)
        {
            throw new TimeoutException($"{e.Message} (last error: {last.Message})", last);
        }
    }

    public static Task EventuallyAsync(Func<bool> condition, TimeSpan timeout, string what) =>
        EventuallyAsync(() => Task.FromResult(condition()), timeout, what);

    public static Task EventuallyAsync(Func<Task<bool>> condition, TimeSpan timeout, string what) =>
        EventuallyAsync<bool>(async () => await condition(), timeout, what);

    private static string Describe<T>(T value) => value switch
    {
        System.Collections.IEnumerable e and not string => string.Join("; ", e.Cast<object?>().Take(20)),
        _ => value?.ToString() ?? "null",
    };
}
