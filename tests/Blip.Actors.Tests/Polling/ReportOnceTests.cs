using Blip.Actors.Shared;

namespace Blip.Actors.Tests.Polling;

public sealed class ReportOnceTests
{
    [Fact]
    public void A_key_is_first_once_until_forgotten()
    {
        var once = new ReportOnce<string>(10);

        Assert.True(once.First("job 1"));
        Assert.False(once.First("job 1"));
        Assert.True(once.First("job 2"));
        once.Forget();
        Assert.True(once.First("job 1"));
    }

    [Fact]
    public void A_full_memory_starts_again_rather_than_growing()
    {
        var once = new ReportOnce<int>(2);
        once.First(1);
        once.First(2);

        Assert.True(once.First(3)); // forgot 1 and 2 to make room
        Assert.True(once.First(1));
    }
}
