using Blip.Actors.IntegrationTests.Harness;

namespace Blip.Actors.IntegrationTests.Infrastructure;

/// <summary>
/// <see cref="Deadline"/> for probes that may throw while the thing they look at is still coming up: an exception counts
/// as "not yet" and the last one is named if the deadline passes. The polling itself is Deadline's.
/// </summary>
public static class Eventually
{
    public static async Task<T> UntilAsync<T>(Func<Task<T?>> probe, TimeSpan timeout, string what)
    {
        Exception? last = null;
        try
        {
            return (await Deadline.UntilAsync(
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

    public static Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what) =>
        UntilAsync(() => Task.FromResult(condition()), timeout, what);

    public static Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what) =>
        UntilAsync<bool>(async () => await condition(), timeout, what);
}
