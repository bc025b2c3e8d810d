using System.Data.Common;

namespace Blip.Actors.Shared;

/// <summary>Parameters for the few plain SQL commands on the journal's database (SQLite or PostgreSQL alike).</summary>
public static class DbParameters
{
    public static DbCommand With(this DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
        return command;
    }
}
