namespace Blip.Actors.IntegrationTests.Harness;

/// <summary>Polls a condition until it holds or the deadline passes; then fails with what was last seen.</summary>
public static class Deadline
{
    public static async Task<T> UntilAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan timeout, string what)
    {
        var until = DateTime.UtcNow + timeout;
        T last;
        while (true)
        {
            last = await probe();
            if (done(last))
            {
                return last;
            }

            if (DateTime.UtcNow > until)
            {
                throw new TimeoutException($"{what}: not reached within {timeout.TotalSeconds:F0} s; last seen: {Describe(last)}");
            }

            await Task.Delay(100);
        }
    }

    public static Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what) =>
        UntilAsync(() => Task.FromResult(condition()), ok => ok, timeout, what);

    private static string Describe<T>(T value) => value switch
    {
        System.Collections.IEnumerable e and not string => string.Join("; ", e.Cast<object?>().Take(20)),
        _ => value?.ToString() ?? "null",
    };
}
