Console.Error.WriteLine("blipctl: no commands yet (see issue 'Operate and inspect')");
return 2;
