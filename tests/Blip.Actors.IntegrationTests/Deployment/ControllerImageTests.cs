using System.Globalization;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace Blip.Actors.IntegrationTests.Deployment;

/// <summary>images/controller/Containerfile: what can be checked without a container engine.</summary>
public sealed partial class ControllerImageTests
{
    // The build context is the repository root.
    private static Containerfile File_ => Containerfile.Load(Repo.PathOf("images", "controller", "Containerfile"));

    [GeneratedRegex(@"dotnet\s+publish\s+(?<project>\S+)")]
    private static partial Regex PublishRegex();

    private static IReadOnlyList<string> PublishedProjectFiles()
    {
        var projects = File_.RunScripts().SelectMany(r => PublishRegex().Matches(r)).Select(m => m.Groups["project"].Value).ToList();
        return projects.Select(p =>
        {
            var path = Repo.PathOf(p.TrimEnd('/'));
            if (File.Exists(path) && path.EndsWith(".csproj", StringComparison.Ordinal))
            {
                return path;
            }
            Assert.True(Directory.Exists(path), $"dotnet publish {p}: no such project in the repository");
            return Assert.Single(Directory.GetFiles(path, "*.csproj"));
        }).ToList();
    }

    [Fact]
    public void Publishes_the_controller_host_and_blipctl_from_projects_that_exist()
    {
        var published = PublishedProjectFiles().Select(p => Path.GetFileName(p)).Order().ToList();
        Assert.Equal(["Blip.Actors.Host.csproj", "Blip.Ctl.csproj"], published);
        Assert.All(File_.RunScripts().Where(r => r.Contains("dotnet publish", StringComparison.Ordinal)),
            r => Assert.Contains("-o /app", r, StringComparison.Ordinal));
    }

    [Fact]
    public void Every_file_copied_from_the_context_exists_and_every_referenced_project_is_copied()
    {
        var sources = File_.ContextSources().ToList();
        Assert.NotEmpty(sources);
        Assert.All(sources, s => Assert.True(File.Exists(Repo.PathOf(s)) || Directory.Exists(Repo.PathOf(s)), $"COPY {s}: not in the repository"));

        // A ProjectReference added later (e.g. a shared contracts project) must be copied in too, or the build breaks.
        var copiedDirs = sources.Where(s => s.EndsWith('/')).Select(s => Path.GetFullPath(Repo.PathOf(s)).TrimEnd('/') + "/").ToList();
        var copiedFiles = sources.Select(s => Path.GetFullPath(Repo.PathOf(s))).ToHashSet();
        foreach (var project in PublishedProjectFiles().SelectMany(Repo.ProjectClosure).Distinct())
        {
            Assert.True(copiedDirs.Any(d => project.StartsWith(d, StringComparison.Ordinal)),
                $"{Path.GetRelativePath(Repo.Root, project)} is built but its folder is not copied into the build stage");
            Assert.Contains(project, copiedFiles); // its .csproj is copied before restore
        }
        foreach (var buildFile in new[] { "global.json", "Directory.Build.props", "Directory.Packages.props" })
        {
            Assert.Contains(Repo.PathOf(buildFile), copiedFiles);
        }
    }

    [Fact]
    public void Runtime_stage_is_aspnet_runs_as_a_non_root_uid_and_starts_the_hosts_assembly()
    {
        var file = File_;
        var last = file.LastStage;
        Assert.StartsWith("mcr.microsoft.com/dotnet/sdk:10.0", file.InStage(0, "FROM").Single().Arguments, StringComparison.Ordinal);
        Assert.StartsWith("mcr.microsoft.com/dotnet/aspnet:10.0", file.InStage(last, "FROM").Single().Arguments, StringComparison.Ordinal);

        var user = Assert.Single(file.InStage(last, "USER")).Arguments.Split(':')[0];
        Assert.True(int.TryParse(user, NumberStyles.None, CultureInfo.InvariantCulture, out var uid), $"USER {user} is not a numeric uid (runAsNonRoot needs one)");
        Assert.NotEqual(0, uid);
        // The same uid the StatefulSet runs as.
        var sts = Yaml.ParseObjects(Repo.Read("k8s", "statefulset.yaml")).Single();
        Assert.Equal(uid.ToString(CultureInfo.InvariantCulture), Yaml.Str(sts.Root, "spec", "template", "spec", "securityContext", "runAsUser"));
        // USER comes after everything that needs root.
        var lastIndex = file.Instructions.ToList().FindLastIndex(i => i.Keyword == "RUN" && i.Stage == last);
        Assert.True(file.Instructions.ToList().FindIndex(i => i.Keyword == "USER" && i.Stage == last) > lastIndex, "USER must follow the last RUN");

        var host = Repo.AssemblyNameOf(Repo.PathOf("src", "Blip.Actors.Host", "Blip.Actors.Host.csproj"));
        Assert.Equal("blip-controller", host);
        var entrypoint = Assert.Single(file.InStage(last, "ENTRYPOINT")).Words;
        Assert.Equal(["dotnet", $"/app/{host}.dll"], entrypoint);
    }

    [Fact]
    public void Blipctl_is_on_the_path_and_the_exposed_ports_are_the_pods_ports()
    {
        var file = File_;
        var ctl = Repo.AssemblyNameOf(Repo.PathOf("src", "Blip.Ctl", "Blip.Ctl.csproj"));
        Assert.Contains(file.RunScripts(), r => r.Contains($"ln -s /app/{ctl} /usr/local/bin/blipctl", StringComparison.Ordinal));

        var exposed = file.InStage(file.LastStage, "EXPOSE").SelectMany(i => i.Words).Order().ToList();
        var container = Yaml.Seq(Yaml.ParseObjects(Repo.Read("k8s", "statefulset.yaml")).Single().Root, "spec", "template", "spec", "containers")
            .OfType<YamlMappingNode>().Single();
        var podPorts = Yaml.Seq(container, "ports").OfType<YamlMappingNode>().Select(p => Yaml.Str(p, "containerPort")).Order().ToList();
        Assert.Equal(["4053", "9110"], exposed);
        Assert.Equal(podPorts, exposed);
    }
}
