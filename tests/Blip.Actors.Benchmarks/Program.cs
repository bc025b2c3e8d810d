Console.Error.WriteLine("benchmarks: no scenarios yet (see issue 'Benchmarks')");
return 2;
