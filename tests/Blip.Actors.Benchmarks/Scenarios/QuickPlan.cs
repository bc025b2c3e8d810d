namespace Blip.Actors.Benchmarks.Scenarios;

/// <summary>Which profiles a <c>--quick</c> run gives each scenario.</summary>
public static class QuickPlan
{
    /// <summary>Each scenario's first profile (the one its targets judge), and each other profile in the first scenario
    /// that lists it only.</summary>
    public static IReadOnlyDictionary<Scenario, IReadOnlyList<Profile>> Of(IReadOnlyList<Scenario> scenarios)
    {
        var seen = new HashSet<string>();
        var plan = new Dictionary<Scenario, IReadOnlyList<Profile>>();
        foreach (var scenario in scenarios)
        {
            plan[scenario] = scenario.Profiles.Where((p, i) => seen.Add(p.Name) || i == 0).ToList();
        }

        return plan;
    }
}
