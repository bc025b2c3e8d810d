using Blip.Actors.Hosting;

namespace Blip.Actors.Tests.Hosting;

public sealed class JournalConnectivityTests
{
    private const string Password = "pw-that-must-not-leak";

    [Theory]
    [InlineData("Host=127.0.0.1;Port=1;Username=blip;Database=journal")] // nothing listens: a check would throw "cannot reach"
    [InlineData("Hots=db")] // not a PostgreSQL connection string: a check would throw "not a valid"
    public void The_sqlite_store_needs_no_check(string leftoverConnectionString)
    {
        // A connection string left over from a PostgreSQL setup is not looked at while the store is sqlite.
        var options = new BlipOptions { Store = "sqlite", ConnectionString = leftoverConnectionString };

        var e = Record.Exception(() => JournalConnectivity.EnsureReachable(options, TimeSpan.FromSeconds(1)));

        Assert.Null(e);
    }

    [Fact]
    public void An_unreachable_server_is_one_line_naming_host_port_database_and_user_but_not_the_password()
    {
        var options = new BlipOptions { Store = "postgres", ConnectionString = $"Host=127.0.0.1;Port=1;Username=blip;Password={Password};Database=journal" };
        var e = Assert.Throws<InvalidOperationException>(() => JournalConnectivity.EnsureReachable(options, TimeSpan.FromSeconds(2)));
        Assert.StartsWith("cannot reach the PostgreSQL journal at 127.0.0.1:1, database 'journal', user 'blip': ", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
        Assert.DoesNotContain(Password, e.Message);
    }

    [Fact]
    public void A_malformed_connection_string_is_named_without_quoting_it()
    {
        var options = new BlipOptions { Store = "postgres", ConnectionString = $"Hots=db;Password={Password}" };
        var e = Assert.Throws<InvalidOperationException>(() => JournalConnectivity.EnsureReachable(options, TimeSpan.FromSeconds(2)));
        Assert.Contains("Blip:ConnectionString is not a valid PostgreSQL connection string", e.Message);
        Assert.DoesNotContain(Password, e.Message);
    }
}
