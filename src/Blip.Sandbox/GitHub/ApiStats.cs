namespace Blip.Sandbox.GitHub;

/// <summary>Counts of REST API calls (not admin or runner calls), per endpoint template and per repo.</summary>
internal sealed class ApiStats
{
    private readonly Lock _gate = new();
    private readonly Counts _all = new();
    private readonly Dictionary<string, Counts> _byEndpoint = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Counts> _byRepo = new(StringComparer.OrdinalIgnoreCase);

    public void Record(string endpoint, string? repo, int status, bool counted)
    {
        lock (_gate)
        {
            _all.Add(status, counted);
            Get(_byEndpoint, endpoint).Add(status, counted);
            if (repo is not null)
            {
                Get(_byRepo, repo).Add(status, counted);
            }
        }
    }

    public SandboxStats Snapshot()
    {
        lock (_gate)
        {
            return new SandboxStats(
                _all.Total,
                _all.Counted,
                _all.NotModified,
                _byEndpoint.ToDictionary(e => e.Key, e => e.Value.ToRecord(), StringComparer.Ordinal),
                _byRepo.ToDictionary(e => e.Key, e => e.Value.ToRecord(), StringComparer.OrdinalIgnoreCase));
        }
    }

    private static Counts Get(Dictionary<string, Counts> map, string key)
    {
        if (!map.TryGetValue(key, out var counts))
        {
            map[key] = counts = new Counts();
        }

        return counts;
    }

    private sealed class Counts
    {
        private readonly SortedDictionary<string, int> _byStatus = new(StringComparer.Ordinal);
        public int Total { get; private set; }
        public int Counted { get; private set; }
        public int NotModified { get; private set; }

        public void Add(int status, bool counted)
        {
            Total++;
            if (counted)
            {
                Counted++;
            }

            if (status == 304)
            {
                NotModified++;
            }

            var key = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
            _byStatus[key] = _byStatus.GetValueOrDefault(key) + 1;
        }

        public RequestCounts ToRecord() => new(Total, Counted, NotModified, new Dictionary<string, int>(_byStatus));
    }
}
