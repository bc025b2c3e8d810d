using Blip.Actors.Hosting;

namespace Blip.Actors.Tests.Hosting;

public sealed class JournalConnectivityTests
{
    private const string Password = "pw-that-must-not-leak";

    [Fact]
    public void The_sqlite_store_needs_no_check()
    {
        JournalConnectivity.EnsureReachable(new BlipOptions { Store = "sqlite" }, TimeSpan.FromSeconds(1));
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
